package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.transport.Results;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The dashboard over a results store that workers elsewhere write to: their results are counted per
 * host and shown in the gallery with their images fetched by key, and the store's copy of the
 * server's own result is not counted twice.
 */
@Timeout(30)
class StoredResultsTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<AutoCloseable> open = new ArrayList<>();

  /** A store that hands on what the test adds, as a real one hands on what workers store. */
  private static final class Store implements Results {
    final BlockingQueue<String> added = new LinkedBlockingQueue<>();

    @Override
    public ClassifyResult get(String id) {
      return null;
    }

    @Override
    public void stored(Consumer<String> json) {}

    @Override
    public void follow(BooleanSupplier running, Consumer<String> json) {
      while (running.getAsBoolean()) {
        try {
          String next = added.poll(50, TimeUnit.MILLISECONDS);
          if (next != null) {
            json.accept(next);
          }
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    void add(ClassifyResult r) {
      added.add(Json.write(r));
    }

    @Override
    public void close() {}
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private JsonNode get(ConveyorServer s, String path) throws Exception {
    return Json.mapper().readTree(fetch(s, path).body());
  }

  private HttpResponse<byte[]> fetch(ConveyorServer s, String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path)).build(),
        HttpResponse.BodyHandlers.ofByteArray());
  }

  private static ClassifyResult ok(String key, String label, String host) {
    return new ClassifyResult(
        "id-" + key,
        key,
        ClassifyResult.Status.OK,
        "squeezenet1_1",
        List.of(new Prediction(3, label, 0.9f)),
        null,
        host,
        12.5);
  }

  @Test
  void resultsStoredByWorkersElsewhereAppearPerHostWithTheirImages() throws Exception {
    Store store = new Store();
    byte[] png = TestImages.bytes("palette-blue.png");
    Map<String, Integer> fetched = new ConcurrentHashMap<>();
    StoredResults stored =
        new StoredResults(
            store,
            (key, max) -> {
              fetched.merge(key, 1, Integer::sum);
              if (key.equals("s3://images/blue.png")) {
                return png;
              }
              throw new ConveyorException(ErrorCode.NOT_FOUND, "no object " + key);
            },
            1 << 20,
            "postgresql://db/conveyor?results=prediction_results");
    ConveyorServer s =
        TestServers.embedded(
            ServerSettings.defaults(), new MeanColourClassifier(32, 32), 8, stored, open);

    assertThat(get(s, "/v1/info").get("results_from").asText())
        .isEqualTo("postgresql://db/conveyor?results=prediction_results");

    // the server's own request, whose result a sink also stores
    HttpResponse<String> own =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/classify"))
                .header("Content-Type", "image/png")
                .POST(HttpRequest.BodyPublishers.ofByteArray(png))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(own.statusCode()).as(own.body()).isEqualTo(200);
    ClassifyResult mine = Json.read(own.body(), ClassifyResult.class);
    store.add(mine);

    store.add(ok("s3://images/blue.png", "blue", "host-a"));
    store.add(ok("/etc/hostname", "red", "host-b"));
    store.add(
        new ClassifyResult(
            "id-missing",
            "s3://images/missing.png",
            ClassifyResult.Status.ERROR,
            null,
            null,
            new ClassifyResult.Error(ErrorCode.NOT_FOUND, "no such object"),
            "host-b",
            3.0));

    JsonNode stats = get(s, "/v1/stats");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (stats.at("/totals/ok").asLong() + stats.at("/totals/errors").asLong() < 4
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
      stats = get(s, "/v1/stats");
    }
    assertThat(stats.at("/totals/ok").asLong()).as("own result counted once").isEqualTo(3);
    assertThat(stats.at("/totals/errors").asLong()).isEqualTo(1);
    assertThat(stats.at("/errors_by_code/NOT_FOUND").asLong()).isEqualTo(1);
    Map<String, Long> perHost = new java.util.TreeMap<>();
    stats
        .get("workers")
        .forEach(w -> perHost.put(w.get("name").asText(), w.get("results").asLong()));
    assertThat(perHost).containsEntry("host-a", 1L).containsEntry("host-b", 2L).hasSize(3);

    JsonNode recent = get(s, "/v1/recent").get("results");
    assertThat(recent).hasSize(4);
    Map<String, JsonNode> byId = new java.util.HashMap<>();
    recent.forEach(r -> byId.put(r.get("id").asText(), r));
    assertThat(byId.get(mine.id()).get("image").asText()).endsWith("/image");
    assertThat(byId.get("id-/etc/hostname").get("image").isNull())
        .as("a local path is never served")
        .isTrue();

    HttpResponse<byte[]> image =
        fetch(s, byId.get("id-s3://images/blue.png").get("image").asText());
    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(image.headers().firstValue("Content-Type")).hasValue("image/png");
    assertThat(image.body()).isEqualTo(png);

    HttpResponse<byte[]> gone = fetch(s, byId.get("id-missing").get("image").asText());
    assertThat(gone.statusCode()).isEqualTo(404);
    for (int n = 0; n < 8; n++) {
      fetch(s, "/v1/recent/" + n + "/image");
    }
    assertThat(fetched).doesNotContainKey("/etc/hostname");
  }
}
