package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.onnx.testing.TestModels.Colour;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve} as {@link Serving} assembles it from settings alone. */
@Timeout(60)
class ServingTest {
  @TempDir Path dir;
  private final HttpClient http = HttpClient.newHttpClient();
  private Path model;

  @BeforeEach
  void writeModel() {
    model = TestModels.writeColour(dir.resolve("colours.onnx"), Colour.imagenetSized());
  }

  private Settings settings(String... more) {
    Map<String, String> given = new HashMap<>(Map.of("model", model.toString(), "port", "0"));
    for (int i = 0; i + 1 < more.length; i += 2) {
      given.put(more[i], more[i + 1]);
    }
    return Settings.read(given, "test", Serving.SETTINGS);
  }

  private HttpResponse<String> classify(Serving s, String image) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/classify"))
            .header("Content-Type", "image/png")
            .POST(HttpRequest.BodyPublishers.ofByteArray(TestImages.bytes(image)))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode get(Serving s, String path) throws Exception {
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return Json.mapper().readTree(r.body());
  }

  @Test
  void byDefaultOneWorkerInThisProcessAnswersOnTheEmbeddedTransportUntilClosed() throws Exception {
    int port;
    try (Serving s = Serving.open(settings("workers", "2"))) {
      port = s.port();
      assertThat(s.workers()).hasSize(2);
      assertThat(s.classify().transport()).isEqualTo("embedded");
      assertThat(s.classify().model()).isEqualTo("colours");
      assertThat(s.config().tls()).isNull();
      HttpResponse<String> r = classify(s, "palette-blue.png");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode body = Json.mapper().readTree(r.body());
      assertThat(body.get("status").asText()).isEqualTo("ok");
      assertThat(body.at("/predictions/0/label").asText()).isEqualTo("blue");
      assertThat(get(s, "/v1/info").get("results_from").isNull()).isTrue();
    }
    HttpRequest again =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/info")).build();
    assertThatThrownBy(() -> http.send(again, HttpResponse.BodyHandlers.ofString()))
        .as("closing stopped the server")
        .isInstanceOf(ConnectException.class);
    try (Serving s = Serving.open(settings())) {
      assertThat(s.workers()).as("one worker unless told").hasSize(1);
    }
  }

  @Test
  void throughABrokerWithNoWorkersHereTheModelIsNamedByItsFileAndNotLoaded() throws Exception {
    EchoBrokerProvider.ANSWERED.clear();
    try (Serving s =
        Serving.open(
            settings(
                "transport",
                "echo://requests",
                "model",
                dir.resolve("not-loaded.onnx").toString(),
                "dashboard-from",
                "echo://results"))) {
      assertThat(s.workers()).isEmpty();
      assertThat(s.classify().transport()).isEqualTo("echo://requests");
      assertThat(s.classify().model()).isEqualTo("not-loaded");
      HttpResponse<String> r = classify(s, "palette-blue.png");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(Json.mapper().readTree(r.body()).get("model").asText())
          .as("the broker's answer")
          .isEqualTo("echo");
      assertThat(EchoBrokerProvider.ANSWERED).hasSize(1);
      assertThat(get(s, "/v1/info").get("results_from").asText())
          .as("the dashboard follows the store the settings name")
          .isEqualTo("echo://results");
    }
  }

  @Test
  void theDashboardFollowsWhereWorkersAlsoStoreResultsWhenNothingElseIsNamed() throws Exception {
    EchoBrokerProvider.ANSWERED.clear();
    try (Serving s = Serving.open(settings("results-to", "echo://also"))) {
      assertThat(get(s, "/v1/info").get("results_from").asText()).isEqualTo("echo://also");
      assertThat(classify(s, "palette-blue.png").statusCode()).isEqualTo(200);
      // the caller is answered as the embedded transport delivers; the second store may take a
      // moment more, and the result is acknowledged once both hold it
      long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(10);
      while (EchoBrokerProvider.ANSWERED.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertThat(EchoBrokerProvider.ANSWERED)
          .as("the worker stored its result there as well")
          .extracting(r -> r.model())
          .containsExactly("colours");
    }
  }

  @Test
  void settingsThatCannotServeAreRefusedNamingWhy() {
    assertThatThrownBy(() -> Serving.open(settings("workers", "0")))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("--workers must be at least 1 on the embedded transport");
    assertThatThrownBy(() -> Serving.open(settings("transport", "nosuch://x")))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("no broker for 'nosuch://x'")
        .hasMessageContaining("echo://name");
    assertThatThrownBy(() -> Serving.open(settings("dashboard-from", "nosuch://results")))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("no broker for 'nosuch://results'");
  }
}
