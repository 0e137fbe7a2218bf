package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * One vocabulary of errors: every error names an {@link ErrorCode}, and every endpoint answers a
 * code with the status {@link HttpStatus#of} gives it; settings of the jobs; and the one path by
 * which the dashboard and the metrics learn what happened.
 */
class ErrorStatusTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private ConveyorServer server(ServerConfig config, MeanColourClassifier model) {
    return TestServers.embedded(config, model, 64, open);
  }

  private ConveyorServer server() {
    return server(ServerSettings.defaults(), new MeanColourClassifier(32, 32));
  }

  private HttpResponse<String> send(
      ConveyorServer s, String method, String path, String type, byte[] body) throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
            .method(method, HttpRequest.BodyPublishers.ofByteArray(body));
    if (type != null) {
      b.header("Content-Type", type);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(ConveyorServer s, String path) throws Exception {
    return send(s, "GET", path, null, new byte[0]);
  }

  private HttpResponse<String> postImage(ConveyorServer s, String path, String image)
      throws Exception {
    return send(s, "POST", path, "application/octet-stream", TestImages.bytes(image));
  }

  private static String code(HttpResponse<String> r) throws Exception {
    return Json.mapper().readTree(r.body()).at("/error/code").asText();
  }

  @Test
  void everyCodeHasTheStatusThatSaysWhatHappened() {
    Map<Integer, List<ErrorCode>> byStatus =
        Map.of(
            400,
                List.of(
                    ErrorCode.EMPTY,
                    ErrorCode.CORRUPT,
                    ErrorCode.BAD_TENSOR,
                    ErrorCode.BAD_REQUEST,
                    ErrorCode.INVALID_SETTING,
                    ErrorCode.FETCH_FAILED),
            401, List.of(ErrorCode.UNAUTHORIZED),
            404, List.of(ErrorCode.NOT_FOUND, ErrorCode.UNKNOWN_MODEL),
            413, List.of(ErrorCode.TOO_LARGE),
            415, List.of(ErrorCode.UNSUPPORTED_FORMAT),
            421, List.of(ErrorCode.MISDIRECTED),
            429, List.of(ErrorCode.BUSY),
            500, List.of(ErrorCode.INTERNAL, ErrorCode.INFERENCE_FAILED, ErrorCode.DEAD_LETTER),
            503, List.of(ErrorCode.UNAVAILABLE),
            504, List.of(ErrorCode.TIMEOUT));
    assertThat(byStatus.values().stream().mapToInt(List::size).sum())
        .isEqualTo(ErrorCode.values().length);
    byStatus.forEach(
        (status, codes) ->
            codes.forEach(c -> assertThat(HttpStatus.of(c)).as(c.name()).isEqualTo(status)));
  }

  @Test
  void errorsNameACodeOfTheOneVocabulary() throws Exception {
    ConveyorServer s = server();
    HttpResponse<String> noField =
        send(s, "POST", "/predict", "multipart/form-data; boundary=b", "--b--\r\n".getBytes());
    assertThat(noField.statusCode()).isEqualTo(400);
    assertThat(code(noField)).isEqualTo("BAD_REQUEST");
    HttpResponse<String> text = send(s, "POST", "/v1/jobs", "text/plain", "hi".getBytes());
    assertThat(text.statusCode()).isEqualTo(415);
    assertThat(code(text)).isEqualTo("UNSUPPORTED_FORMAT");
    HttpResponse<String> job = get(s, "/v1/jobs/nope");
    assertThat(job.statusCode()).isEqualTo(404);
    assertThat(code(job)).isEqualTo("NOT_FOUND");
    HttpResponse<String> image = get(s, "/v1/recent/nope/image");
    assertThat(image.statusCode()).isEqualTo(404);
    assertThat(code(image)).isEqualTo("NOT_FOUND");
    HttpResponse<String> empty = postImage(s, "/v1/classify", "empty.jpg");
    assertThat(empty.statusCode()).isEqualTo(400);
    assertThat(Json.mapper().readTree(empty.body()).at("/error/code").asText()).isEqualTo("EMPTY");
    HttpResponse<String> notImage = postImage(s, "/v1/classify", "not-an-image.txt");
    assertThat(notImage.statusCode()).isEqualTo(415);

    ConveyorServer closed =
        server(ServerSettings.defaults().withToken("t"), new MeanColourClassifier(32, 32));
    HttpResponse<String> noToken = get(closed, "/v1/stats");
    assertThat(noToken.statusCode()).isEqualTo(401);
    assertThat(code(noToken)).isEqualTo("UNAUTHORIZED");
    assertThat(noToken.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
  }

  @Test
  void kserveAnswersACodeWithTheSameStatusAsEveryOtherEndpoint() throws Exception {
    ConveyorServer s = server();
    String request =
        "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"%s\"]}]}"
            .formatted(Base64.getEncoder().encodeToString(TestImages.bytes("not-an-image.txt")));
    HttpResponse<String> r =
        send(s, "POST", "/v2/models/mean-colour/infer", "application/json", request.getBytes());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(415);
    assertThat(Json.mapper().readTree(r.body()).get("error").asText()).startsWith("image 0:");
    assertThat(postImage(s, "/v1/classify", "not-an-image.txt").statusCode()).isEqualTo(415);
    HttpResponse<String> noToken =
        send(
            server(ServerSettings.defaults().withToken("t"), new MeanColourClassifier(32, 32)),
            "POST",
            "/v2/models/mean-colour/infer",
            "application/json",
            request.getBytes());
    assertThat(noToken.statusCode()).isEqualTo(401);
    assertThat(Json.mapper().readTree(noToken.body()).get("error").asText()).contains("Bearer");
  }

  @Test
  void theJobsKeptAtOnceAndForHowLongAreSettings() throws Exception {
    ConveyorServer s =
        server(
            ServerSettings.defaults().withJobCapacity(1).withJobExpiry(Duration.ofMillis(300)),
            new MeanColourClassifier(32, 32).slow(300));
    HttpResponse<String> first = postImage(s, "/v1/jobs", "palette-blue.png");
    assertThat(first.statusCode()).isEqualTo(202);
    HttpResponse<String> second = postImage(s, "/v1/jobs", "palette-blue.png");
    assertThat(second.statusCode()).as("the one job is still running").isEqualTo(429);
    assertThat(code(second)).isEqualTo("BUSY");
    assertThat(second.headers().firstValue("Retry-After")).hasValue("1");
    String id = Json.mapper().readTree(first.body()).get("id").asText();
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (get(s, "/v1/jobs/" + id).statusCode() == 202 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    Thread.sleep(400);
    assertThat(get(s, "/v1/jobs/" + id).statusCode()).as("expired").isEqualTo(404);
  }

  @Test
  void aTimeoutIsCountedOnceByTheDashboardAndTheMetricsAlike() throws Exception {
    ConveyorServer s =
        server(
            ServerSettings.defaults().withResultTimeout(Duration.ofMillis(100)),
            new MeanColourClassifier(32, 32).slow(400));
    HttpResponse<String> late = postImage(s, "/v1/classify", "palette-blue.png");
    assertThat(late.statusCode()).isEqualTo(504);
    assertThat(code(late)).isEqualTo("TIMEOUT");
    Thread.sleep(800); // the result comes, to no one
    JsonNode stats = Json.mapper().readTree(get(s, "/v1/stats").body());
    assertThat(stats.at("/totals/requests").asLong()).isEqualTo(1);
    assertThat(stats.at("/totals/errors").asLong()).isEqualTo(1);
    assertThat(stats.at("/totals/ok").asLong()).isZero();
    assertThat(stats.at("/totals/in_flight").asLong()).isZero();
    assertThat(stats.at("/errors_by_code/TIMEOUT").asLong()).isEqualTo(1);
    assertThat(stats.at("/batch_sizes/1").asLong()).as("the model did run").isEqualTo(1);
    String metrics = get(s, "/metrics").body();
    assertThat(metrics)
        .contains("conveyor_errors_total{code=\"TIMEOUT\",model=\"mean-colour\"} 1")
        .contains("conveyor_in_flight{model=\"mean-colour\"} 0")
        .contains("conveyor_batch_size_count{model=\"mean-colour\"} 1")
        .doesNotContain("conveyor_results_total");
  }

  @Test
  void aCallerWaitingForItsResultHoldsNoServerThread() throws Exception {
    ConveyorServer s =
        server(ServerSettings.defaults(), new MeanColourClassifier(32, 32).slow(700));
    CompletableFuture<HttpResponse<String>> response =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/classify"))
                .header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofByteArray(TestImages.bytes("palette-blue.png")))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    Thread.sleep(350);
    assertThat(response).as("still waiting for the model").isNotDone();
    List<String> waiting = new ArrayList<>();
    Thread.getAllStackTraces()
        .forEach(
            (thread, frames) -> {
              for (StackTraceElement f : frames) {
                if (thread.getName().startsWith("JettyServerThreadPool")
                    && f.getClassName().equals(CompletableFuture.class.getName())) {
                  waiting.add(thread.getName() + " in " + f);
                }
              }
            });
    assertThat(waiting).isEmpty();
    assertThat(response.get().statusCode()).isEqualTo(200);
  }
}
