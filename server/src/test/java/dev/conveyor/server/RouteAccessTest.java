package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.core.transport.EmbeddedTransport;
import dev.conveyor.core.worker.Worker;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Deny by default, checked on every route the server registered (read from the router, so a new
 * route is covered without touching this test), under many spellings of its path and with several
 * methods. Requests go over a plain socket, so the server sees each path exactly as written.
 */
class RouteAccessTest {
  private static final String TOKEN = "s3cret";
  private static final String MODEL = "mean-colour";
  private static final List<String> METHODS = List.of("GET", "POST", "HEAD", "OPTIONS");
  private static final Set<Integer> REFUSED = Set.of(401, 404, 405);

  private EmbeddedTransport transport;
  private Worker worker;
  private ConveyorServer server;

  @BeforeEach
  void start() {
    MeanColourClassifier model = new MeanColourClassifier(32, 32);
    transport = new EmbeddedTransport(64, 3);
    worker = TestWorkers.colour(transport, transport, model, 4);
    server =
        new ConveyorServer(
                ServerSettings.defaults().withPort(0).withToken(TOKEN),
                new EmbeddedClassify(transport, List.of(worker), MODEL, 2))
            .start();
  }

  @AfterEach
  void stop() {
    server.close();
    worker.close();
    transport.close();
  }

  @Test
  void theRouterReportsEveryRouteAndWhichArePublic() {
    List<ConveyorServer.Route> routes = server.routes();
    assertThat(routes)
        .contains(
            new ConveyorServer.Route("POST", "/predict", false),
            new ConveyorServer.Route("GET", "/metrics", false),
            new ConveyorServer.Route("GET", "/v1/jobs/{id}", false),
            new ConveyorServer.Route("GET", "/v1/info", true),
            new ConveyorServer.Route("GET", "/v2/health/live", true),
            new ConveyorServer.Route("GET", "/v2/health/ready", true));
    assertThat(routes.stream().filter(ConveyorServer.Route::isPublic).map(r -> r.path()))
        .as("public are the health checks and /v1/info, nothing else")
        .allMatch(p -> p.equals("/v1/info") || p.startsWith("/v2/health/"));
  }

  @Test
  void noSpellingOrMethodReachesARouteThatIsNotPublicWithoutTheToken() throws Exception {
    List<String> reached = new ArrayList<>();
    int tried = 0;
    for (ConveyorServer.Route route : server.routes()) {
      if (route.isPublic()) {
        continue;
      }
      for (String path : spellings(concrete(route.path()))) {
        for (String method : methods(route)) {
          for (String authorization : new String[] {null, "Bearer wrong", "Basic " + TOKEN}) {
            int status = send(method, path, authorization);
            tried++;
            if (!REFUSED.contains(status)) {
              reached.add(method + " " + path + " (" + authorization + ") -> " + status);
            }
          }
        }
      }
    }
    assertThat(tried).as("requests sent").isGreaterThan(500);
    assertThat(reached).as("answered without the token").isEmpty();
  }

  @Test
  void publicRoutesAndThePageAnswerWithoutTheToken() throws Exception {
    for (ConveyorServer.Route route : server.routes()) {
      if (route.isPublic()) {
        String path = concrete(route.path());
        assertThat(send(route.method(), path, null)).as(route.toString()).isEqualTo(200);
        assertThat(send(route.method(), path + "/", null)).as(route + " with /").isEqualTo(200);
      }
    }
    for (String file : List.of("/", "/index.html", "/app.js", "/app.css")) {
      assertThat(send("GET", file, null)).as(file).isEqualTo(200);
      assertThat(send("HEAD", file, null)).as("HEAD " + file).isEqualTo(200);
    }
    assertThat(send("GET", "/webjars/chart.js/4.4.7/dist/chart.umd.js", null)).isEqualTo(200);
  }

  @Test
  void everyOtherRouteAnswersWithTheToken() throws Exception {
    for (ConveyorServer.Route route : server.routes()) {
      if (!route.isPublic()) {
        String path = concrete(route.path());
        for (String auth : List.of("Bearer " + TOKEN, "bearer  " + TOKEN + " ")) {
          int status = send(route.method(), path, auth);
          assertThat(status).as(route + " with " + auth).isNotEqualTo(401).isLessThan(500);
        }
      }
    }
    assertThat(send("GET", "/metrics", "Bearer " + TOKEN)).isEqualTo(200);
    assertThat(send("GET", "/metrics", "Bearer " + TOKEN + "x")).isEqualTo(401);
    assertThat(send("GET", "/metrics", "Bearer " + TOKEN.substring(1))).isEqualTo(401);
    assertThat(send("GET", "/metrics", "Bearer")).isEqualTo(401);
    assertThat(send("GET", "/metrics", TOKEN)).isEqualTo(401);
  }

  /** The route's path with its parameters filled: the model's name, or any id. */
  private static String concrete(String route) {
    return route.replace("{name}", MODEL).replaceAll("\\{[^}]+}|<[^>]+>", "x");
  }

  private static List<String> methods(ConveyorServer.Route route) {
    Set<String> methods = new LinkedHashSet<>(METHODS);
    methods.add(route.method());
    return List.copyOf(methods);
  }

  /** The path as the router should match it, and spelled in ways it might be fooled by. */
  private static Set<String> spellings(String path) {
    Set<String> s = new LinkedHashSet<>();
    s.add(path);
    s.add(path + "/");
    s.add(path + "//");
    s.add("/" + path);
    int last = path.lastIndexOf('/');
    if (last > 0) {
      s.add(path.substring(0, last) + "/" + path.substring(last));
      s.add(path.substring(0, last) + "%2F" + path.substring(last + 1));
    }
    s.add(path.toUpperCase(Locale.ROOT));
    s.add(path.substring(0, 1) + path.substring(1, 2).toUpperCase(Locale.ROOT) + path.substring(2));
    s.add(encodeFirstLetter(path));
    s.add(encodeAllLetters(path));
    s.add(path + "%2F");
    s.add(path + ";x");
    s.add(path + "?token=" + TOKEN);
    s.add(path + "/.");
    s.add("/." + path);
    s.add("/x/.." + path);
    s.add("/%2e" + path);
    s.add("/x/%2e%2e" + path);
    s.add(path + "%20");
    return s;
  }

  private static String encodeFirstLetter(String path) {
    for (int i = 0; i < path.length(); i++) {
      if (Character.isLetter(path.charAt(i))) {
        return path.substring(0, i)
            + "%%%02X".formatted((int) path.charAt(i))
            + path.substring(i + 1);
      }
    }
    return path;
  }

  private static String encodeAllLetters(String path) {
    StringBuilder b = new StringBuilder();
    for (char c : path.toCharArray()) {
      b.append(Character.isLetter(c) ? "%%%02x".formatted((int) c) : String.valueOf(c));
    }
    return b.toString();
  }

  /** Sends one request with an empty body; answers the status. */
  private int send(String method, String path, String authorization) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", server.port())) {
      socket.setSoTimeout(10_000);
      String request =
          method
              + " "
              + path
              + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n"
              + (authorization == null ? "" : "Authorization: " + authorization + "\r\n")
              + "\r\n";
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      BufferedReader in =
          new BufferedReader(
              new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
      String status = in.readLine();
      assertThat(status).as(method + " " + path).startsWith("HTTP/1.1 ");
      return Integer.parseInt(status.substring(9, 12));
    }
  }
}
