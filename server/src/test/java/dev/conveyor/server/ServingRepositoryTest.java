package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.onnx.testing.TestModels;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code serve --models}: callers name the model, in the query or KServe's path. */
@Timeout(60)
class ServingRepositoryTest {
  @TempDir Path repo;
  private final HttpClient http = HttpClient.newHttpClient();

  private void publish(String model, int version) {
    TestModels.publishColour(repo, model, version);
  }

  @BeforeEach
  void twoModels() throws Exception {
    publish("colours", 1);
    publish("french", 1);
    Files.writeString(repo.resolve("french/labels.txt"), "rouge\nvert\nbleu\n");
    Files.writeString(repo.resolve("french/config.properties"), "labels=labels.txt\n");
  }

  private Settings settings(String... more) {
    Map<String, String> given =
        new HashMap<>(
            Map.of(
                "models",
                repo.toString(),
                "default-model",
                "colours",
                "port",
                "0",
                "models-poll",
                "1"));
    for (int i = 0; i + 1 < more.length; i += 2) {
      given.put(more[i], more[i + 1]);
    }
    return Settings.read(given, "test", Serving.SETTINGS);
  }

  private HttpResponse<String> post(Serving s, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
            .header("Content-Type", "image/jpeg")
            .POST(HttpRequest.BodyPublishers.ofByteArray(TestImages.bytes("cmyk-red.jpg")))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(Serving s, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void eachCallIsAnsweredByTheModelItNamesAndANewVersionRollsOut() throws Exception {
    try (Serving s = Serving.open(settings())) {
      JsonNode plain = Json.mapper().readTree(post(s, "/v1/classify").body());
      assertThat(plain.get("model").asText()).isEqualTo("colours");
      assertThat(plain.get("version").asLong()).isEqualTo(1);
      assertThat(plain.at("/predictions/0/label").asText()).isEqualTo("red");

      JsonNode french = Json.mapper().readTree(post(s, "/v1/classify?model=french").body());
      assertThat(french.get("model").asText()).isEqualTo("french");
      assertThat(french.at("/predictions/0/label").asText()).isEqualTo("rouge");

      String huge = "nosuch".repeat(1000); // 6,000 characters, within what the server reads
      for (String hostile : new String[] {"nosuch", "..%2Fcolours", "colours%2F1", huge}) {
        HttpResponse<String> refused = post(s, "/v1/classify?model=" + hostile);
        assertThat(refused.statusCode()).as(hostile).isEqualTo(404);
        assertThat(refused.body())
            .contains("UNKNOWN_MODEL")
            .doesNotContain("nosuch")
            .hasSizeLessThan(300);
      }
      // metrics by the model and version that answered, never by a name a caller made up
      String metrics = get(s, "/metrics").body();
      assertThat(metrics)
          .contains("conveyor_results_total{model=\"french\",status=\"ok\",version=\"1\"")
          .contains("conveyor_results_total{model=\"colours\",status=\"ok\",version=\"1\"")
          .contains(
              "conveyor_http_requests_total{endpoint=\"/v1/classify\",model=\"colours\","
                  + "status=\"404\"} 4")
          .doesNotContain("nosuch");
      // the dashboard's data, by model and version
      JsonNode models = Json.mapper().readTree(get(s, "/v1/stats").body()).get("models");
      assertThat(models.toString())
          .contains("\"model\":\"colours\",\"version\":1,\"ok\":1,\"errors\":0")
          .contains("\"model\":\"french\",\"version\":1,\"ok\":1,\"errors\":0");
      assertThat(get(s, "/v2/models/french/ready").statusCode()).isEqualTo(200);
      assertThat(get(s, "/v2/models/nosuch/ready").statusCode()).isEqualTo(404);
      publish("french", 4);
      assertThat(
              Json.mapper().readTree(get(s, "/v2/models/french").body()).get("versions").toString())
          .as("KServe's metadata lists the repository's versions")
          .isEqualTo("[\"1\",\"4\"]");
      assertThat(s.classify().model()).isEqualTo("colours");

      publish("colours", 2);
      long deadline = System.nanoTime() + 20_000_000_000L;
      long version = 1;
      while (version != 2 && System.nanoTime() < deadline) {
        version = Json.mapper().readTree(post(s, "/v1/classify").body()).get("version").asLong();
        Thread.sleep(50);
      }
      assertThat(version).as("the version published is served within the poll").isEqualTo(2);
    }
  }

  @Test
  void serveNeedsTheDefaultModelAndOneThatIsThere() {
    Map<String, String> noDefault = new HashMap<>(Map.of("models", repo.toString()));
    assertThatThrownBy(() -> Serving.open(Settings.read(noDefault, "test", Serving.SETTINGS)))
        .hasMessageContaining("serve --models needs --default-model NAME");
    assertThatThrownBy(() -> Serving.open(settings("default-model", "resnet")))
        .hasMessageContaining("--default-model resnet is not in the repository");
  }

  private HttpResponse<String> postJson(Serving s, String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void kserveRepositoryRoutesListLoadAndUnloadModels() throws Exception {
    try (Serving s = Serving.open(settings("models-poll", "3600"))) {
      JsonNode index = Json.mapper().readTree(get(s, "/v2/repository/index").body());
      assertThat(index.toString())
          .contains("{\"name\":\"colours\",\"version\":\"1\",\"state\":\"READY\"}")
          .contains("{\"name\":\"french\",\"version\":\"1\",\"state\":\"\"}");
      JsonNode ready =
          Json.mapper().readTree(postJson(s, "/v2/repository/index", "{\"ready\":true}").body());
      assertThat(ready).hasSize(1);

      assertThat(postJson(s, "/v2/repository/models/french/load", "").statusCode()).isEqualTo(200);
      assertThat(get(s, "/v2/repository/index").body())
          .contains("{\"name\":\"french\",\"version\":\"1\",\"state\":\"READY\"}");

      assertThat(postJson(s, "/v2/repository/models/french/unload", "").statusCode())
          .isEqualTo(200);
      HttpResponse<String> refused = post(s, "/v1/classify?model=french");
      assertThat(refused.statusCode()).as("unloaded: not served").isEqualTo(404);
      assertThat(refused.body()).contains("UNKNOWN_MODEL");
      assertThat(get(s, "/v2/repository/index").body()).contains("\"reason\":\"unloaded\"");
      assertThat(postJson(s, "/v2/repository/models/french/load", "").statusCode()).isEqualTo(200);
      assertThat(post(s, "/v1/classify?model=french").statusCode()).isEqualTo(200);

      HttpResponse<String> unknown = postJson(s, "/v2/repository/models/nosuch/load", "");
      assertThat(unknown.statusCode()).isEqualTo(404);
      assertThat(unknown.body()).startsWith("{\"error\":").doesNotContain("nosuch");

      // a version that cannot be served is in the index with why, and the old one serves on
      Path corrupt = Files.createDirectories(repo.resolve("french/2"));
      Files.write(corrupt.resolve("model.onnx"), new byte[] {0x08, 0x07, 0x12, 0x03, 'b', 'a'});
      ((dev.conveyor.assembly.ModelSet) s.classify().repository().orElseThrow()).refresh();
      JsonNode after = Json.mapper().readTree(get(s, "/v2/repository/index").body());
      assertThat(after.toString())
          .contains("{\"name\":\"french\",\"version\":\"1\",\"state\":\"READY\"}")
          .contains("{\"name\":\"french\",\"version\":\"2\",\"state\":\"UNAVAILABLE\",\"reason\":");
      assertThat(
              Json.mapper()
                  .readTree(post(s, "/v1/classify?model=french").body())
                  .get("version")
                  .asLong())
          .isEqualTo(1);
    }
  }

  @Test
  void theRepositoryRoutesNeedTheTokenWhenThereIsOne() throws Exception {
    try (Serving s = Serving.open(settings("token", "a-long-enough-test-token-1234"))) {
      assertThat(postJson(s, "/v2/repository/models/french/unload", "").statusCode())
          .isEqualTo(401);
      assertThat(get(s, "/v2/repository/index").statusCode()).isEqualTo(401);
      assertThat(s.classify().repository().orElseThrow().versionStates())
          .as("the refused unload changed nothing")
          .noneMatch(v -> "unloaded".equals(v.reason()));
    }
  }
}
