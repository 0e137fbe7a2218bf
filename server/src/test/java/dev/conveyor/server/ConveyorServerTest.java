package dev.conveyor.server;

import static java.nio.ByteOrder.LITTLE_ENDIAN;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
    return TestServers.embedded(config, model, capacity, open);
  }

  private ConveyorServer server() {
    return server(ServerSettings.defaults(), new MeanColourClassifier(32, 32), 64);
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

  private HttpResponse<String> get(ConveyorServer s, String path, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path));
    for (int i = 0; i + 1 < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
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
            ServerSettings.defaults().withMaxRequestBytes(50_000),
            new MeanColourClassifier(32, 32),
            64);
    HttpResponse<String> r = postImages(s, "/predict", "image", "plasma-640x480.jpg");
    assertThat(r.statusCode()).isEqualTo(413);
  }

  @Test
  void anUploadSentInChunksIsRefusedAtTheLimitWithoutALengthToCheck() throws Exception {
    ConveyorServer s =
        server(
            ServerSettings.defaults().withMaxRequestBytes(50_000),
            new MeanColourClassifier(32, 32),
            64);
    byte[] image = TestImages.bytes("plasma-640x480.jpg");
    assertThat(image.length).isGreaterThan(50_000);
    for (String[] route :
        new String[][] {
          {"/v1/classify", "image/jpeg"},
          {"/predict", "multipart/form-data; boundary=" + boundary},
          {"/v2/models/mean-colour/infer", "application/json"}
        }) {
      byte[] body =
          route[1].startsWith("multipart")
              ? multipart("image", "plasma-640x480.jpg")
              : route[1].equals("application/json") ? new byte[200_000] : image;
      // no Content-Length: the body comes in chunks, and only reading it shows its size
      HttpRequest chunked =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + route[0]))
              .header("Content-Type", route[1])
              .POST(
                  HttpRequest.BodyPublishers.ofInputStream(
                      () -> new java.io.ByteArrayInputStream(body)))
              .build();
      HttpResponse<String> r = http.send(chunked, HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(route[0]).isEqualTo(413);
      assertThat(r.body()).as(route[0]).contains("limit of 50000");
    }
    // the budget of bytes held was given back: a small upload is served
    assertThat(postImages(s, "/predict", "image", "cmyk-red.jpg").statusCode()).isEqualTo(200);
  }

  @Test
  void aTokenIsRequiredWhenSetExceptForHealth() throws Exception {
    ConveyorServer s =
        server(ServerSettings.defaults().withToken("s3cret"), new MeanColourClassifier(32, 32), 64);
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
    // what the public and the authorised see never holds the token
    for (String path : List.of("/v1/info", "/v1/stats", "/metrics", "/v2", "/")) {
      HttpResponse<String> seen = get(s, path, "Authorization", "Bearer s3cret");
      assertThat(seen.statusCode()).as(path).isEqualTo(200);
      assertThat(seen.body()).as(path).doesNotContain("s3cret");
    }
  }

  @Test
  void moreRequestsThanThePipelineHoldsGet429WithRetryAfterNotTimeouts() throws Exception {
    ConveyorServer s =
        server(ServerSettings.defaults(), new MeanColourClassifier(32, 32).slow(300), 2);
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
            ServerSettings.defaults().withResultTimeout(Duration.ofMillis(100)),
            new MeanColourClassifier(32, 32).slow(1000),
            64);
    HttpResponse<String> r = postImages(s, "/predict", "image", "cmyk-red.jpg");
    assertThat(r.statusCode()).isEqualTo(504);
    assertThat(json(r).at("/error/code").asText()).isEqualTo("TIMEOUT");
  }

  @Test
  void aJobAnswersAnIdAtOnceAndItsResultWhenReady() throws Exception {
    ConveyorServer s =
        server(ServerSettings.defaults(), new MeanColourClassifier(32, 32).slow(300), 64);
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

  private static String b64(String image) {
    return Base64.getEncoder().encodeToString(TestImages.bytes(image));
  }

  @Test
  void kserveV2DescribesTheModelAndInfersBase64Images() throws Exception {
    ConveyorServer s = server();
    HttpResponse<String> meta = get(s, "/v2/models/mean-colour");
    assertThat(meta.statusCode()).as(meta.body()).isEqualTo(200);
    assertThat(json(meta).at("/inputs/0/name").asText()).isEqualTo("image");
    assertThat(json(meta).at("/inputs/0/datatype").asText()).isEqualTo("BYTES");
    assertThat(json(meta).at("/outputs/1/name").asText()).isEqualTo("score");
    assertThat(json(get(s, "/v2/models/mean-colour/ready")).get("ready").asBoolean()).isTrue();

    String request =
        """
        {"id": "req-7", "inputs": [{"name": "image", "datatype": "BYTES", "shape": [2],
          "data": ["%s", "%s"]}]}
        """
            .formatted(b64("cmyk-red.jpg"), b64("palette-blue.png"));
    HttpResponse<String> r =
        post(s, "/v2/models/mean-colour/infer", "application/json", request.getBytes());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode body = json(r);
    assertThat(body.get("id").asText()).isEqualTo("req-7");
    assertThat(body.get("model_name").asText()).isEqualTo("mean-colour");
    JsonNode labels = body.at("/outputs/0");
    assertThat(labels.get("name").asText()).isEqualTo("label");
    assertThat(labels.get("shape").toString()).isEqualTo("[2,2]");
    assertThat(labels.at("/data/0").asText()).isEqualTo("red");
    assertThat(labels.at("/data/2").asText()).isEqualTo("blue");
    assertThat(body.at("/outputs/1/data/0").asDouble())
        .isGreaterThanOrEqualTo(body.at("/outputs/1/data/1").asDouble());
  }

  @Test
  void kserveV2TakesTheBinaryTensorExtension() throws Exception {
    ConveyorServer s = server();
    byte[] red = TestImages.bytes("cmyk-red.jpg");
    byte[] green = TestImages.bytes("rgb16-green.png");
    ByteBuffer data = ByteBuffer.allocate(8 + red.length + green.length).order(LITTLE_ENDIAN);
    data.putInt(red.length).put(red).putInt(green.length).put(green);
    byte[] header =
        ("{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[2],"
                + "\"parameters\":{\"binary_data_size\":"
                + data.capacity()
                + "}}]}")
            .getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(header);
    body.writeBytes(data.array());
    HttpResponse<String> r =
        post(
            s,
            "/v2/models/mean-colour/infer",
            "application/octet-stream",
            body.toByteArray(),
            "Inference-Header-Content-Length",
            Integer.toString(header.length));
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(json(r).at("/outputs/0/data/0").asText()).isEqualTo("red");
    assertThat(json(r).at("/outputs/0/data/2").asText()).isEqualTo("green");
  }

  /** One 3×32×32 image of one colour, normalised as the server's imagenet preprocessing does. */
  private static float[] colourTensor(int r, int g, int b, boolean channelsLast) {
    float[] mean = {0.485f, 0.456f, 0.406f};
    float[] std = {0.229f, 0.224f, 0.225f};
    int[] rgb = {r, g, b};
    float[] out = new float[3 * 32 * 32];
    for (int c = 0; c < 3; c++) {
      float v = (rgb[c] / 255f - mean[c]) / std[c];
      for (int p = 0; p < 32 * 32; p++) {
        out[channelsLast ? p * 3 + c : c * 32 * 32 + p] = v;
      }
    }
    return out;
  }

  private static String numbers(float[]... images) {
    StringBuilder b = new StringBuilder("[");
    for (float[] image : images) {
      for (float v : image) {
        b.append(b.length() > 1 ? "," : "").append(v);
      }
    }
    return b.append("]").toString();
  }

  @Test
  void kserveV2TakesTensorsInJsonAndBinary() throws Exception {
    ConveyorServer s = server();
    JsonNode meta = json(get(s, "/v2/models/mean-colour"));
    assertThat(meta.at("/inputs/1/name").asText()).isEqualTo("tensor");
    assertThat(meta.at("/inputs/1/datatype").asText()).isEqualTo("FP32");
    assertThat(meta.at("/inputs/1/shape").toString()).isEqualTo("[-1,3,32,32]");

    // FP32 in JSON, NCHW: red then blue
    String fp32 =
        "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"FP32\",\"shape\":[2,3,32,32],\"data\":%s}]}"
            .formatted(numbers(colourTensor(230, 20, 10, false), colourTensor(5, 10, 240, false)));
    HttpResponse<String> r =
        post(s, "/v2/models/mean-colour/infer", "application/json", fp32.getBytes());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(json(r).at("/outputs/0/data/0").asText()).isEqualTo("red");
    assertThat(json(r).at("/outputs/0/data/2").asText()).isEqualTo("blue");

    // FP32 with the binary extension, NHWC: green
    ByteBuffer green = ByteBuffer.allocate(3 * 32 * 32 * 4).order(LITTLE_ENDIAN);
    green.asFloatBuffer().put(colourTensor(10, 220, 30, true));
    byte[] header =
        ("{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"FP32\",\"shape\":[1,32,32,3],"
                + "\"parameters\":{\"binary_data_size\":"
                + green.capacity()
                + "}}]}")
            .getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(header);
    body.writeBytes(green.array());
    String[] binary = {"Inference-Header-Content-Length", Integer.toString(header.length)};
    r =
        post(
            s,
            "/v2/models/mean-colour/infer",
            "application/octet-stream",
            body.toByteArray(),
            binary);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(json(r).at("/outputs/0/data/0").asText()).isEqualTo("green");

    // UINT8 RGB pixels in JSON
    StringBuilder pixels = new StringBuilder("[");
    for (int p = 0; p < 32 * 32; p++) {
      pixels.append(p == 0 ? "" : ",").append("10,20,250");
    }
    String uint8 =
        "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"UINT8\",\"shape\":[1,32,32,3],\"data\":%s]}]}"
            .formatted(pixels);
    r = post(s, "/v2/models/mean-colour/infer", "application/json", uint8.getBytes());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(json(r).at("/outputs/0/data/0").asText()).isEqualTo("blue");

    // a truncated binary tensor, a wrong shape, a NaN: each a clear BAD_TENSOR, 400
    byte[] cut = java.util.Arrays.copyOf(body.toByteArray(), body.size() - 100);
    HttpResponse<String> truncated =
        post(s, "/v2/models/mean-colour/infer", "application/octet-stream", cut, binary);
    assertThat(truncated.statusCode()).isEqualTo(400);
    assertThat(json(truncated).get("error").asText()).contains("runs past the end");
    HttpResponse<String> wrongShape =
        post(
            s,
            "/v2/models/mean-colour/infer",
            "application/json",
            fp32.replace("[2,3,32,32]", "[2,3,16,64]").getBytes());
    assertThat(wrongShape.statusCode()).isEqualTo(400);
    assertThat(json(wrongShape).get("error").asText()).contains("1x3x16x64");
    byte[] withNan = body.toByteArray();
    ByteBuffer.wrap(withNan).order(LITTLE_ENDIAN).putFloat(header.length + 77 * 4, Float.NaN);
    HttpResponse<String> nan =
        post(s, "/v2/models/mean-colour/infer", "application/octet-stream", withNan, binary);
    assertThat(nan.statusCode()).isEqualTo(400);
    assertThat(json(nan).get("error").asText()).contains("image 0:").contains("NaN at element 77");
    String text = fp32.replaceFirst("\"data\":\\[[-0-9.E]+,", "\"data\":[\"red\",");
    HttpResponse<String> notNumbers =
        post(s, "/v2/models/mean-colour/infer", "application/json", text.getBytes());
    assertThat(notNumbers.statusCode()).isEqualTo(400);
    assertThat(json(notNumbers).get("error").asText()).contains("holds numbers");
    HttpResponse<String> int64 =
        post(
            s,
            "/v2/models/mean-colour/infer",
            "application/json",
            fp32.replace("FP32", "INT64").getBytes());
    assertThat(int64.statusCode()).isEqualTo(400);
    assertThat(json(int64).get("error").asText()).contains("INT64 is not taken");
  }

  @Test
  void kserveV2ReturnsTheOutputTensorAsJsonOrBinary() throws Exception {
    String request =
        "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"FP32\",\"shape\":[2,3,32,32],"
            + "\"data\":%s}],\"outputs\":[{\"name\":\"output\"%s}]}";
    String data = numbers(colourTensor(230, 20, 10, false), colourTensor(5, 10, 240, false));
    // with the top 2 of 3 classes, the scores of every class are not there
    ConveyorServer topTwo = server();
    HttpResponse<String> refused =
        post(
            topTwo,
            "/v2/models/mean-colour/infer",
            "application/json",
            request.formatted(data, "").getBytes());
    assertThat(refused.statusCode()).isEqualTo(400);
    assertThat(json(refused).get("error").asText()).contains("--top");

    ConveyorServer s =
        TestServers.embedded(
            ServerSettings.defaults(), new MeanColourClassifier(32, 32), 64, null, 3, open);
    HttpResponse<String> r =
        post(
            s,
            "/v2/models/mean-colour/infer",
            "application/json",
            request.formatted(data, "").getBytes());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode output = json(r).at("/outputs/0");
    assertThat(json(r).get("outputs")).as("only what was asked for").hasSize(1);
    assertThat(output.get("name").asText()).isEqualTo("output");
    assertThat(output.get("shape").toString()).isEqualTo("[2,3]");
    float[] scores = new float[6];
    for (int i = 0; i < 6; i++) {
      scores[i] = (float) output.at("/data/" + i).asDouble();
    }
    assertThat(scores[0]).as("red's score of the red image").isGreaterThan(scores[1]);
    assertThat(scores[5]).as("blue's score of the blue image").isGreaterThan(scores[3]);
    assertThat(scores[0] + scores[1] + scores[2]).isCloseTo(1f, within(1e-5f));

    // the binary output extension: the JSON header, then the tensor's bytes, decoded here
    HttpRequest binaryRequest =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + s.port() + "/v2/models/mean-colour/infer"))
            .header("Content-Type", "application/json")
            .POST(
                HttpRequest.BodyPublishers.ofString(
                    request.formatted(data, ",\"parameters\":{\"binary_data\":true}")))
            .build();
    HttpResponse<byte[]> binary = http.send(binaryRequest, HttpResponse.BodyHandlers.ofByteArray());
    assertThat(binary.statusCode()).isEqualTo(200);
    int headerLength =
        Integer.parseInt(
            binary.headers().firstValue("Inference-Header-Content-Length").orElseThrow());
    JsonNode header = Json.mapper().readTree(binary.body(), 0, headerLength);
    assertThat(header.at("/outputs/0/parameters/binary_data_size").asInt()).isEqualTo(6 * 4);
    assertThat(header.at("/outputs/0/data").isMissingNode()).isTrue();
    ByteBuffer raw =
        ByteBuffer.wrap(binary.body(), headerLength, binary.body().length - headerLength)
            .slice()
            .order(LITTLE_ENDIAN);
    assertThat(raw.remaining()).isEqualTo(6 * 4);
    for (int i = 0; i < 6; i++) {
      assertThat(raw.getFloat(i * 4)).isCloseTo(scores[i], within(1e-6f));
    }
  }

  @Test
  void kserveV2ErrorsAreItsOwnJson() throws Exception {
    ConveyorServer s = server();
    HttpResponse<String> unknown = get(s, "/v2/models/resnet50");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(json(unknown).get("error").asText()).contains("mean-colour");

    String corrupt =
        "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],\"data\":[\"%s\"]}]}"
            .formatted(b64("truncated.jpg"));
    HttpResponse<String> bad =
        post(s, "/v2/models/mean-colour/infer", "application/json", corrupt.getBytes());
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(json(bad).get("error").asText()).startsWith("image 0:");

    HttpResponse<String> wrongShape =
        post(
            s,
            "/v2/models/mean-colour/infer",
            "application/json",
            corrupt.replace("[1]", "[3]").getBytes());
    assertThat(wrongShape.statusCode()).isEqualTo(400);
    assertThat(json(wrongShape).get("error").asText()).contains("holds 1 images");

    HttpResponse<String> notJson =
        post(s, "/v2/models/mean-colour/infer", "application/json", "{oops".getBytes());
    assertThat(notJson.statusCode()).isEqualTo(400);
  }

  @Test
  void metricsCountRequestsLatencyBatchesAndErrorsByCodeInPrometheusFormat() throws Exception {
    ConveyorServer s = server();
    postImages(s, "/v1/classify", "images", "cmyk-red.jpg", "rgb16-green.png", "yellow.bmp");
    postImages(s, "/predict", "image", "truncated.jpg");
    assertThat(get(s, "/v1/no-such-thing").statusCode()).isEqualTo(404);
    HttpResponse<String> r = get(s, "/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain");
    String m = r.body();
    assertThat(m)
        .contains(
            "conveyor_http_requests_total{endpoint=\"/v1/classify\",model=\"mean-colour\","
                + "status=\"200\"} 1")
        .contains(
            "conveyor_http_requests_total{endpoint=\"/predict\",model=\"mean-colour\","
                + "status=\"400\"} 1")
        .contains("conveyor_errors_total{code=\"CORRUPT\",model=\"mean-colour\"} 1")
        .contains("conveyor_result_latency_seconds_count{model=\"mean-colour\",version=\"\"} 4")
        .contains("conveyor_http_request_duration_seconds_bucket{endpoint=\"/predict\"")
        .contains("conveyor_queue_depth{model=\"mean-colour\"} 0")
        .contains("conveyor_in_flight{model=\"mean-colour\"} 0")
        .as("unknown paths share one label value")
        .contains("endpoint=\"unmatched\",model=\"mean-colour\",status=\"404\"} 1")
        .doesNotContain("no-such-thing");
    assertThat(m)
        .containsPattern(
            "conveyor_results_total\\{model=\"mean-colour\",status=\"ok\",version=\"\",worker=\"[^\"]+\"} 3");
    Matcher batches =
        Pattern.compile("conveyor_batch_size_sum\\{model=\"mean-colour\"} ([0-9.]+)").matcher(m);
    assertThat(batches.find()).as(m).isTrue();
    assertThat(Double.parseDouble(batches.group(1)))
        .as("the three decodable images reached the model, the corrupt one did not")
        .isEqualTo(3.0);
  }

  @Test
  void thePageItsAssetsAndTheDashboardDataAreServed() throws Exception {
    ConveyorServer s =
        server(ServerSettings.defaults().withToken("s3cret"), new MeanColourClassifier(32, 32), 64);
    HttpResponse<String> page = get(s, "/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.body()).contains("Conveyor").contains("chart.umd.js");
    assertThat(get(s, "/app.js").statusCode()).isEqualTo(200);
    assertThat(get(s, "/webjars/chart.js/4.4.7/dist/chart.umd.js").statusCode()).isEqualTo(200);
    JsonNode info = json(get(s, "/v1/info"));
    assertThat(info.get("model").asText()).isEqualTo("mean-colour");
    assertThat(info.get("token_required").asBoolean()).isTrue();
    assertThat(get(s, "/v1/stats").statusCode()).as("the data needs the token").isEqualTo(401);
    assertThat(get(s, "/metrics").statusCode()).isEqualTo(401);
    assertThat(get(s, "/v2/models/mean-colour").statusCode()).isEqualTo(401);

    String[] auth = {"Authorization", "Bearer s3cret"};
    post(
        s,
        "/v1/classify",
        "multipart/form-data; boundary=" + boundary,
        multipart("images", "palette-blue.png", "corrupt.jpg"),
        auth);
    JsonNode stats = json(get(s, "/v1/stats", auth));
    assertThat(stats.at("/totals/requests").asLong()).isEqualTo(2);
    assertThat(stats.at("/totals/ok").asLong()).isEqualTo(1);
    assertThat(stats.at("/totals/errors").asLong()).isEqualTo(1);
    assertThat(stats.at("/totals/queue_capacity").asInt()).isEqualTo(64);
    assertThat(stats.at("/errors_by_code/CORRUPT").asLong()).isEqualTo(1);
    assertThat(stats.at("/workers/0/results").asLong()).isEqualTo(2);
    assertThat(stats.at("/batch_sizes").size()).isPositive();
    Thread.sleep(1_300);
    JsonNode series = json(get(s, "/v1/stats", auth)).get("series");
    assertThat(series.get("t").size()).isPositive();
    assertThat(series.get("throughput").size()).isEqualTo(series.get("t").size());

    JsonNode recent = json(get(s, "/v1/recent", auth)).get("results");
    assertThat(recent).hasSize(2);
    JsonNode blue =
        recent.get(0).get("status").asText().equals("ok") ? recent.get(0) : recent.get(1);
    assertThat(blue.at("/predictions/0/label").asText()).isEqualTo("blue");
    HttpRequest imageRequest =
        HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + s.port() + blue.get("image").asText()))
            .header(auth[0], auth[1])
            .build();
    byte[] image = http.send(imageRequest, HttpResponse.BodyHandlers.ofByteArray()).body();
    assertThat(image).isEqualTo(TestImages.bytes("palette-blue.png"));
  }
}
