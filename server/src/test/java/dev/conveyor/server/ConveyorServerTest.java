package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.core.transport.EmbeddedTransport;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP API against the real server on a free port, with a real pipeline behind it. */
class ConveyorServerTest {
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  /** A server over an embedded pipeline holding at most {@code capacity} waiting requests. */
  private ConveyorServer server(ServerConfig config, MeanColourClassifier model, int capacity) {
    EmbeddedTransport transport = new EmbeddedTransport(capacity, 3);
    open.add(transport);
    open.add(TestWorkers.colour(transport, transport, model, 4));
    ConveyorServer server =
        new ConveyorServer(
                config.withPort(0),
                new Classify() {
                  @Override
                  public CompletableFuture<ClassifyResult> submit(ImageRequest request) {
                    return transport.submit(request);
                  }

                  @Override
                  public String model() {
                    return model.spec().name();
                  }
                })
            .start();
    open.add(server);
    return server;
  }

  private ConveyorServer server() {
    return server(ServerConfig.defaults(), new MeanColourClassifier(32, 32), 64);
  }

  private static String boundary = "conveyor-test-boundary";

  /** A multipart/form-data body with one file part per name. */
  private static byte[] multipart(String field, String... names) {
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    for (String name : names) {
      body.writeBytes(
          ("--"
                  + boundary
                  + "\r\nContent-Disposition: form-data; name=\""
                  + field
                  + "\"; filename=\""
                  + name
                  + "\"\r\nContent-Type: application/octet-stream\r\n\r\n")
              .getBytes(StandardCharsets.UTF_8));
      body.writeBytes(TestImages.bytes(name));
      body.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
    }
    body.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return body.toByteArray();
  }

  private HttpResponse<String> post(
      ConveyorServer s, String path, String contentType, byte[] body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
            .header("Content-Type", contentType)
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> postImages(
      ConveyorServer s, String path, String field, String... names) throws Exception {
    return post(s, path, "multipart/form-data; boundary=" + boundary, multipart(field, names));
  }

  private static JsonNode json(HttpResponse<String> r) throws Exception {
    return Json.mapper().readTree(r.body());
  }

  @Test
  void predictAnswersSeed003sFormWithTopFiveProbabilities() throws Exception {
    HttpResponse<String> r = postImages(server(), "/predict", "image", "cmyk-red.jpg");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode body = json(r);
    assertThat(r.body())
        .as("seed 003's shape, success first")
        .startsWith("{\"success\":true,\"predictions\":[");
    assertThat(body.get("success").asBoolean()).isTrue();
    assertThat(body.at("/predictions/0/label").asText()).isEqualTo("red");
    assertThat(body.at("/predictions/0/probability").asDouble()).isBetween(0.0, 1.0);
  }

  @Test
  void classifyTakesSeveralImagesOrOneRawBody() throws Exception {
    ConveyorServer s = server();
    HttpResponse<String> several =
        postImages(
            s, "/v1/classify", "images", "cmyk-red.jpg", "rgb16-green.png", "palette-blue.png");
    assertThat(several.statusCode()).as(several.body()).isEqualTo(200);
    JsonNode list = json(several);
    assertThat(list).hasSize(3);
    assertThat(list.get(0).get("source").asText()).isEqualTo("cmyk-red.jpg");
    assertThat(list.get(1).at("/predictions/0/label").asText()).isEqualTo("green");
    assertThat(list.get(2).at("/predictions/0/label").asText()).isEqualTo("blue");

    HttpResponse<String> raw =
        post(s, "/v1/classify", "image/png", TestImages.bytes("palette-blue.png"));
    assertThat(raw.statusCode()).isEqualTo(200);
    assertThat(json(raw).at("/predictions/0/label").asText()).isEqualTo("blue");
    assertThat(json(raw).get("status").asText()).isEqualTo("ok");
  }

  @Test
  void badImagesGetTheStatusThatSaysWhy() throws Exception {
    ConveyorServer s = server();
    HttpResponse<String> corrupt = postImages(s, "/predict", "image", "truncated.jpg");
    assertThat(corrupt.statusCode()).isEqualTo(400);
    assertThat(json(corrupt).at("/error/code").asText()).isEqualTo("CORRUPT");
    assertThat(json(corrupt).get("success").asBoolean()).isFalse();
    HttpResponse<String> text = postImages(s, "/predict", "image", "not-an-image.txt");
    assertThat(text.statusCode()).isEqualTo(415);
    HttpResponse<String> notImageBody =
        post(s, "/v1/classify", "text/plain", "hello".getBytes(StandardCharsets.UTF_8));
    assertThat(notImageBody.statusCode()).isEqualTo(415);
    assertThat(json(notImageBody).at("/error/message").asText()).contains("multipart/form-data");
    HttpResponse<String> noField = postImages(s, "/predict", "photo", "cmyk-red.jpg");
    assertThat(noField.statusCode()).isEqualTo(400);
    assertThat(json(noField).at("/error/message").asText()).contains("curl -F image=@");
  }

  @Test
  void anUploadOverTheLimitIs413() throws Exception {
    ConveyorServer s =
        server(
            ServerConfig.defaults().withMaxRequestBytes(50_000),
            new MeanColourClassifier(32, 32),
            64);
    HttpResponse<String> r = postImages(s, "/predict", "image", "plasma-640x480.jpg");
    assertThat(r.statusCode()).isEqualTo(413);
  }

  @Test
  void aTokenIsRequiredWhenSetExceptForHealth() throws Exception {
    ConveyorServer s =
        server(ServerConfig.defaults().withToken("s3cret"), new MeanColourClassifier(32, 32), 64);
    assertThat(postImages(s, "/predict", "image", "cmyk-red.jpg").statusCode()).isEqualTo(401);
    HttpResponse<String> ok =
        post(
            s,
            "/predict",
            "multipart/form-data; boundary=" + boundary,
            multipart("image", "cmyk-red.jpg"),
            "Authorization",
            "Bearer s3cret");
    assertThat(ok.statusCode()).isEqualTo(200);
    HttpResponse<String> live =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v2/health/live"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(live.statusCode()).isEqualTo(200);
  }

  @Test
  void moreRequestsThanThePipelineHoldsGet429WithRetryAfterNotTimeouts() throws Exception {
    ConveyorServer s =
        server(ServerConfig.defaults(), new MeanColourClassifier(32, 32).slow(300), 2);
    List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      HttpRequest req =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/predict"))
              .header("Content-Type", "multipart/form-data; boundary=" + boundary)
              .POST(HttpRequest.BodyPublishers.ofByteArray(multipart("image", "cmyk-red.jpg")))
              .timeout(Duration.ofSeconds(60))
              .build();
      responses.add(http.sendAsync(req, HttpResponse.BodyHandlers.ofString()));
    }
    int ok = 0;
    int busy = 0;
    for (CompletableFuture<HttpResponse<String>> f : responses) {
      HttpResponse<String> r = f.get();
      if (r.statusCode() == 200) {
        ok++;
      } else {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(429);
        assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
        busy++;
      }
    }
    assertThat(busy).as("some were told to come back").isPositive();
    assertThat(ok).as("some were served").isPositive();
    assertThat(postImages(s, "/predict", "image", "palette-blue.png").statusCode())
        .as("still healthy")
        .isEqualTo(200);
  }

  @Test
  void aResultThatDoesNotComeInTimeIs504() throws Exception {
    ConveyorServer s =
        server(
            ServerConfig.defaults().withResultTimeout(Duration.ofMillis(100)),
            new MeanColourClassifier(32, 32).slow(1000),
            64);
    HttpResponse<String> r = postImages(s, "/predict", "image", "cmyk-red.jpg");
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(json(r).at("/error/code").asText()).isEqualTo("TIMEOUT");
  }

  @Test
  void aJobAnswersAnIdAtOnceAndItsResultWhenReady() throws Exception {
    ConveyorServer s =
        server(ServerConfig.defaults(), new MeanColourClassifier(32, 32).slow(300), 64);
    HttpResponse<String> submitted = postImages(s, "/v1/jobs", "image", "palette-blue.png");
    assertThat(submitted.statusCode()).as(submitted.body()).isEqualTo(202);
    String id = json(submitted).get("id").asText();
    URI job = URI.create("http://127.0.0.1:" + s.port() + "/v1/jobs/" + id);
    HttpResponse<String> pending =
        http.send(HttpRequest.newBuilder(job).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(pending.statusCode()).isEqualTo(202);
    assertThat(json(pending).get("status").asText()).isEqualTo("pending");
    HttpResponse<String> done;
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    do {
      Thread.sleep(50);
      done = http.send(HttpRequest.newBuilder(job).build(), HttpResponse.BodyHandlers.ofString());
    } while (done.statusCode() == 202 && System.nanoTime() < deadline);
    assertThat(done.statusCode()).isEqualTo(200);
    assertThat(json(done).get("id").asText()).isEqualTo(id);
    assertThat(json(done).at("/predictions/0/label").asText()).isEqualTo("blue");
    HttpResponse<String> unknown =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v1/jobs/nope"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(unknown.statusCode()).isEqualTo(404);
  }

  @Test
  void healthReportsTheModel() throws Exception {
    ConveyorServer s = server();
    HttpResponse<String> r =
        http.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/v2/health/ready"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(json(r).get("model").asText()).isEqualTo("mean-colour");
  }
}
