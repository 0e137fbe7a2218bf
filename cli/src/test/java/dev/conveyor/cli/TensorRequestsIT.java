package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import dev.conveyor.testing.KafkaServer;
import dev.conveyor.testing.RedisServer;
import dev.conveyor.testing.Requirements;
import dev.conveyor.testing.TestProcesses;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tensor requests on every transport: NumPy files made from PNGs by numpy and PIL (not by
 * Conveyor), sent through {@code classify}, a Redis stream, Kafka and HTTP, get the top-k the PNGs
 * themselves get; a tensor with NaN, one of the wrong size and a cut-short file get BAD_TENSOR, and
 * the workers go on.
 */
@Timeout(240)
class TensorRequestsIT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();
  private static final Path PYTHON = Path.of("/usr/bin/python3");

  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  /** Each PNG as a (1, 224, 224, 3) float32 .npy, normalized as the imagenet preset does. */
  private List<Path> tensors(List<Path> images) throws Exception {
    String script =
        """
        import sys
        import numpy as np
        from PIL import Image
        mean = np.array([0.485, 0.456, 0.406], dtype=np.float32)
        std = np.array([0.229, 0.224, 0.225], dtype=np.float32)
        for path in sys.argv[1:]:
            a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0
            np.save(path[:-4] + ".npy", ((a - mean) / std)[np.newaxis].astype(np.float32))
        np.save(sys.argv[1][:-4] + "-nan.npy", np.full((1, 3, 224, 224), np.nan, np.float32))
        np.save(sys.argv[1][:-4] + "-small.npy", np.zeros((1, 3, 100, 100), np.float32))
        """;
    List<String> command = new ArrayList<>(List.of(PYTHON.toString(), "-c", script));
    images.forEach(p -> command.add(p.toString()));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    List<Path> npy = new ArrayList<>();
    for (Path image : images) {
      npy.add(Path.of(image.toString().replace(".png", ".npy")));
    }
    return npy;
  }

  private static String stem(String source) {
    String name = Path.of(source).getFileName().toString();
    return name.contains(".") ? name.substring(0, name.lastIndexOf('.')) : name;
  }

  /** Every result of a tensor has the top-k its PNG got. */
  private static void sameAsImages(List<JsonNode> results, Map<String, JsonNode> byImage) {
    for (JsonNode r : results) {
      JsonNode want = byImage.get(stem(r.get("source").asText()));
      assertThat(want).as(r.toString()).isNotNull();
      assertThat(r.get("status").asText()).as(r.toString()).isEqualTo("ok");
      JsonNode got = r.get("predictions");
      assertThat(got).hasSize(want.size());
      for (int i = 0; i < want.size(); i++) {
        assertThat(got.get(i).get("label").asText()).isEqualTo(want.get(i).get("label").asText());
        assertThat(got.get(i).get("score").asDouble())
            .isCloseTo(want.get(i).get("score").asDouble(), within(1e-4));
      }
    }
  }

  private Process worker(String name, String uri, Path model) throws Exception {
    Process p = ColourModel.worker(ROOT, dir, name, uri, model);
    open.add(() -> TestProcesses.kill(p));
    return p;
  }

  @Test
  void tensorsGetTheTopKOfTheirImagesOnEveryTransport() throws Exception {
    Requirements.executable(PYTHON, "apt-get install python3-numpy python3-pil");
    Path model = ColourModel.model(dir);
    List<Path> images = ColourModel.images(dir);
    List<Path> npy = tensors(images);
    String[] pipeline = ColourModel.options(model).toArray(String[]::new);

    List<String> args = new ArrayList<>(List.of("classify"));
    args.addAll(List.of(pipeline));
    images.forEach(f -> args.add(f.toString()));
    Map<String, JsonNode> byImage = new HashMap<>();
    for (JsonNode r : CliRun.of(args.toArray(String[]::new)).jsonLines()) {
      byImage.put(stem(r.get("source").asText()), r.get("predictions"));
    }

    // classify reads the .npy files as it reads images
    List<String> tensorArgs = new ArrayList<>(List.of("classify"));
    tensorArgs.addAll(List.of(pipeline));
    npy.forEach(f -> tensorArgs.add(f.toString()));
    Path nan = dir.resolve("colour-0-nan.npy");
    Path small = dir.resolve("colour-0-small.npy");
    Path cut = dir.resolve("colour-0-cut.npy");
    Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(npy.get(0)), 5000));
    tensorArgs.addAll(List.of(nan.toString(), small.toString(), cut.toString()));
    List<JsonNode> classified = CliRun.of(tensorArgs.toArray(String[]::new)).jsonLines();
    assertThat(classified).hasSize(npy.size() + 3);
    sameAsImages(classified.subList(0, npy.size()), byImage);
    for (JsonNode bad : classified.subList(npy.size(), classified.size())) {
      assertThat(bad.at("/error/code").asText()).as(bad.toString()).isEqualTo("BAD_TENSOR");
    }
    assertThat(classified.get(npy.size()).at("/error/message").asText()).contains("NaN");
    assertThat(classified.get(npy.size() + 1).at("/error/message").asText())
        .contains("1x3x100x100");
    assertThat(classified.get(npy.size() + 2).at("/error/message").asText()).contains("needs");

    List<String> files = new ArrayList<>();
    npy.forEach(f -> files.add(f.toString()));
    files.add(nan.toString());

    // a Redis stream and Kafka, each through a worker process
    RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")), false);
    open.add(redis);
    KafkaServer kafka = KafkaServer.start(Files.createDirectories(dir.resolve("kafka")));
    open.add(kafka);
    for (String uri : List.of(redis.uri("mode=stream"), kafka.uri("topic=tensors"))) {
      worker(uri.substring(0, 5), uri, model);
      List<String> produce = new ArrayList<>(List.of("produce", "--to", uri, "--wait"));
      produce.addAll(files);
      CliRun produced = CliRun.of(produce.toArray(String[]::new));
      assertThat(produced.exitCode()).as(produced.err()).isZero();
      List<JsonNode> results = produced.jsonLines();
      assertThat(results).as(uri).hasSize(files.size());
      List<JsonNode> good = new ArrayList<>();
      for (JsonNode r : results) {
        if (r.get("source").asText().endsWith("-nan.npy")) {
          assertThat(r.at("/error/code").asText()).isEqualTo("BAD_TENSOR");
        } else {
          good.add(r);
        }
      }
      sameAsImages(good, byImage);
    }

    // HTTP: a tensor as the request body
    try (ServeProcess serve = ServeProcess.start(ROOT, dir, pipeline)) {
      for (Path f : npy) {
        HttpResponse<String> r =
            serve.http.send(
                serve.post("/v1/classify", "application/octet-stream", Files.readAllBytes(f)),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode result = Json.mapper().readTree(r.body());
        JsonNode one = result.isArray() ? result.get(0) : result;
        ((com.fasterxml.jackson.databind.node.ObjectNode) one).put("source", f.toString());
        sameAsImages(List.of(one), byImage);
      }
      HttpResponse<String> bad =
          serve.http.send(
              serve.post(
                  "/v1/classify", "application/x-tensor; dtype=float32", Files.readAllBytes(small)),
              HttpResponse.BodyHandlers.ofString());
      assertThat(bad.statusCode()).as(bad.body()).isEqualTo(400);
      assertThat(bad.body()).contains("BAD_TENSOR");
    }
  }
}
