package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import dev.conveyor.testing.RedisServer;
import dev.conveyor.testing.TestProcesses;
import dev.conveyor.train.FashionMnist;
import dev.conveyor.train.PngExport;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code conveyor worker}, {@code produce} and {@code results} as processes, on a real Redis. */
class RedisCommandsIT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();

  @TempDir Path dir;
  private Process worker;
  private Process server;
  private RedisServer redisServer;

  @AfterEach
  void stop() throws Exception {
    for (Process p : new Process[] {server, worker}) {
      if (p != null) {
        TestProcesses.kill(p);
      }
    }
    if (redisServer != null) {
      redisServer.close();
    }
  }

  private int startRedis() throws Exception {
    redisServer = RedisServer.start(Files.createDirectories(dir.resolve("redis")), false);
    return redisServer.port();
  }

  @Test
  void aWorkerProcessServesProducersAndStopsCleanlyOnSigterm() throws Exception {
    String uri = "redis://127.0.0.1:" + startRedis() + "?mode=list";
    worker =
        new ProcessBuilder(ROOT.resolve("conveyor").toString(), "worker", "--from", uri)
            .redirectOutput(dir.resolve("worker.out").toFile())
            .redirectError(dir.resolve("worker.err").toFile())
            .start();

    FashionMnist test =
        FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(30);
    Path images = Files.createDirectories(dir.resolve("images"));
    for (int i = 0; i < test.count(); i++) {
      Files.write(images.resolve("%02d.png".formatted(i)), PngExport.png(test, i));
    }
    CliRun produce =
        CliRun.of("produce", "--to", uri, "--wait", "--timeout", "60", images.toString());
    assertThat(produce.exitCode()).as(produce.err()).isZero();
    List<JsonNode> results = produce.jsonLines();
    assertThat(results)
        .hasSize(30)
        .allSatisfy(r -> assertThat(r.get("status").asText()).isEqualTo("ok"));
    long right =
        results.stream()
            .filter(
                r -> {
                  int i =
                      Integer.parseInt(
                          Path.of(r.get("source").asText())
                              .getFileName()
                              .toString()
                              .substring(0, 2));
                  return r.at("/predictions/0/index").asInt() == test.label(i);
                })
            .count();
    assertThat(right)
        .as("the bundled model is right about most of them")
        .isGreaterThanOrEqualTo(26);

    CliRun stored = CliRun.of("results", "--from", uri);
    assertThat(stored.jsonLines()).hasSize(30);
    CliRun one = CliRun.of("results", "--from", uri, "--id", results.get(0).get("id").asText());
    assertThat(one.jsonLines())
        .singleElement()
        .satisfies(r -> assertThat(r.get("id")).isEqualTo(results.get(0).get("id")));

    worker.destroy(); // SIGTERM
    assertThat(worker.waitFor(20, TimeUnit.SECONDS)).as("the worker exits after SIGTERM").isTrue();
    assertThat(Files.readString(dir.resolve("worker.err")))
        .contains("conveyor worker: 1 worker(s)");
  }

  private static long number(List<String> lines) {
    return lines.isEmpty() || lines.get(0).isBlank() ? 0 : Long.parseLong(lines.get(0).trim());
  }

  @Test
  void aWorkerStoppedMidBatchFinishesWhatItTookAndLeavesTheRestQueued() throws Exception {
    RedisServer redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")), false);
    redisServer = redis;
    String uri = redis.uri("mode=list");
    int n = 120;
    Path images = Files.createDirectories(dir.resolve("large"));
    byte[] large = dev.conveyor.core.testing.TestImages.bytes("detail-2200x1400.jpg");
    for (int i = 0; i < n; i++) {
      Files.write(images.resolve("%03d.jpg".formatted(i)), large);
    }
    CliRun produced = CliRun.of("produce", "--to", uri, images.toString());
    assertThat(produced.exitCode()).as(produced.err()).isZero();
    assertThat(number(redis.cli("LLEN", "conveyor:images"))).isEqualTo(n);

    // large JPEGs on one preprocessing thread: the worker holds batches for a while
    worker =
        new ProcessBuilder(
                ROOT.resolve("conveyor").toString(),
                "worker",
                "--from",
                uri,
                "--batch",
                "8",
                "--preprocess-threads",
                "1")
            .redirectOutput(dir.resolve("worker.out").toFile())
            .redirectError(dir.resolve("worker.err").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    long held = 0;
    List<String> processing = List.of();
    while (held == 0) {
      assertThat(worker.isAlive()).as(Files.readString(dir.resolve("worker.err"))).isTrue();
      assertThat(System.nanoTime()).as("the worker took nothing").isLessThan(deadline);
      processing = redis.cli("KEYS", "conveyor:images:processing:*");
      held = processing.isEmpty() ? 0 : number(redis.cli("LLEN", processing.get(0)));
    }
    worker.destroy(); // SIGTERM while it holds requests
    assertThat(worker.waitFor(60, TimeUnit.SECONDS)).as("the worker exits after SIGTERM").isTrue();
    // 143: the JVM's status after its shutdown hooks ran on SIGTERM
    assertThat(worker.exitValue()).isIn(0, 143);

    long answered = number(redis.cli("XLEN", "conveyor:results"));
    long queued = number(redis.cli("LLEN", "conveyor:images"));
    assertThat(number(redis.cli("LLEN", processing.get(0))))
        .as("nothing left in the stopped worker's processing list")
        .isZero();
    assertThat(answered).as("what it held when stopped was finished").isGreaterThanOrEqualTo(held);
    assertThat(answered + queued).as("every request answered or still queued").isEqualTo(n);
    assertThat(queued).as("it stopped taking before the queue ran out").isPositive();

    // a second worker answers the rest: every request once
    worker =
        new ProcessBuilder(ROOT.resolve("conveyor").toString(), "worker", "--from", uri)
            .redirectOutput(dir.resolve("worker2.out").toFile())
            .redirectError(dir.resolve("worker2.err").toFile())
            .start();
    while (number(redis.cli("XLEN", "conveyor:results")) < n) {
      assertThat(worker.isAlive()).isTrue();
      assertThat(System.nanoTime()).as("the rest answered").isLessThan(deadline + 60_000_000_000L);
      Thread.sleep(100);
    }
    java.util.Set<String> ids = new java.util.HashSet<>();
    for (String line : redis.cli("XRANGE", "conveyor:results", "-", "+")) {
      if (line.startsWith("{")) {
        ids.add(dev.conveyor.core.Json.mapper().readTree(line).get("id").asText());
      }
    }
    assertThat(ids).as("each request answered once").hasSize(n);
    assertThat(number(redis.cli("XLEN", "conveyor:results"))).isEqualTo(n);
  }

  @Test
  void benchRunsItsPipelineThroughARedisMode() throws Exception {
    String uri = "redis://127.0.0.1:" + startRedis() + "?mode=stream";
    Path model =
        dev.conveyor.onnx.testing.TestModels.writeColour(
            dir.resolve("colours.onnx"),
            dev.conveyor.onnx.testing.TestModels.Colour.imagenetSized());
    CliRun run =
        CliRun.of(
            "bench",
            "--model",
            model.toString(),
            "--transport",
            uri,
            "--seconds",
            "0.5",
            "--batch",
            "4",
            "--chart",
            dir.resolve("bench.png").toString(),
            "--json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("pipeline: redis stream, end to end");
    JsonNode json = run.jsonLines().get(0);
    assertThat(json.get("pipeline_ips").asDouble()).isPositive();
    assertThat(json.get("p99_ms").asDouble()).isGreaterThanOrEqualTo(json.get("p50_ms").asDouble());
  }

  @Test
  void aBadBrokerUriIsAUsageError() {
    CliRun run = CliRun.of("produce", "--to", "kafka-ish://nowhere", "x.png");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("redis://host:port?mode=list|pubsub|stream");
    CliRun mode = CliRun.of("worker", "--from", "redis://127.0.0.1:1?mode=queue");
    assertThat(mode.exitCode()).isEqualTo(2);
    assertThat(mode.err()).contains("mode must be list, pubsub or stream");
  }

  @Test
  void serveOverRedisAnswersOnceAWorkerElsewhereHasStoredTheResult() throws Exception {
    String uri = "redis://127.0.0.1:" + startRedis() + "?mode=stream";
    ServeProcess serve = ServeProcess.start(ROOT, dir, "--transport", uri, "--timeout", "30");
    server = serve.process;
    assertThat(Files.readString(serve.err)).contains("0 worker(s) in this process");

    FashionMnist test =
        FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(8);
    // sent before any worker runs: it waits in the stream and is answered once one starts
    CompletableFuture<HttpResponse<String>> early =
        serve.http.sendAsync(
            serve.post("/v1/classify", "image/png", PngExport.png(test, 0)),
            HttpResponse.BodyHandlers.ofString());
    Thread.sleep(500);
    assertThat(early).isNotDone();
    worker =
        new ProcessBuilder(ROOT.resolve("conveyor").toString(), "worker", "--from", uri)
            .redirectOutput(dir.resolve("worker.out").toFile())
            .redirectError(dir.resolve("worker.err").toFile())
            .start();
    HttpResponse<String> first = early.get(60, TimeUnit.SECONDS);
    assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
    JsonNode result = Json.mapper().readTree(first.body());
    assertThat(result.at("/predictions/0/index").asInt()).isEqualTo(test.label(0));

    for (int i = 1; i < test.count(); i++) {
      HttpResponse<String> r =
          serve.http.send(
              serve.post("/v1/classify", "image/png", PngExport.png(test, i)),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    }
    JsonNode stats = serve.getJson("/v1/stats");
    assertThat(stats.at("/totals/ok").asLong()).isEqualTo(8);
    assertThat(stats.get("transport").asText()).contains("stream");
    assertThat(stats.at("/workers/0/results").asLong()).isEqualTo(8);
  }
}
