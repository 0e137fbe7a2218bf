package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.testing.KafkaServer;
import dev.conveyor.testing.Ports;
import dev.conveyor.testing.TestProcesses;
import dev.conveyor.train.FashionMnist;
import dev.conveyor.train.PngExport;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code conveyor worker}, {@code produce} and {@code results} on a real Kafka broker. */
class KafkaCommandsIT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();

  @TempDir Path dir;
  private KafkaServer broker;
  private Process worker;

  @AfterEach
  void stop() throws Exception {
    if (worker != null) {
      TestProcesses.kill(worker);
    }
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  void aWorkerProcessServesAProducerThroughAFourPartitionTopic() throws Exception {
    broker = KafkaServer.start(Files.createDirectories(dir.resolve("kafka")));
    String uri = broker.uri("topic=fashion-images&results=fashion-results");
    FashionMnist test =
        FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(30);
    Path images = Files.createDirectories(dir.resolve("images"));
    for (int i = 0; i < test.count(); i++) {
      Files.write(images.resolve("%02d.png".formatted(i)), PngExport.png(test, i));
    }
    CliRun produce = CliRun.of("produce", "--to", uri, "--partitions", "4", images.toString());
    assertThat(produce.exitCode()).as(produce.err()).isZero();
    assertThat(produce.err()).contains("sent 30 images");

    worker =
        new ProcessBuilder(ROOT.resolve("conveyor").toString(), "worker", "--from", uri)
            .redirectOutput(dir.resolve("worker.out").toFile())
            .redirectError(dir.resolve("worker.err").toFile())
            .start();
    List<JsonNode> results = List.of();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    while (results.size() < 30 && System.nanoTime() < deadline) {
      Thread.sleep(500);
      results = CliRun.of("results", "--from", uri).jsonLines();
    }
    assertThat(results)
        .hasSize(30)
        .allSatisfy(r -> assertThat(r.get("status").asText()).isEqualTo("ok"));
    assertThat(results)
        .allSatisfy(r -> assertThat(r.get("model").asText()).isEqualTo("fashion-mnist"));
    CliRun waited =
        CliRun.of(
            "produce",
            "--to",
            uri,
            "--wait",
            "--timeout",
            "60",
            images.resolve("00.png").toString());
    assertThat(waited.exitCode()).as(waited.err()).isZero();
    assertThat(waited.jsonLines())
        .singleElement()
        .satisfies(r -> assertThat(r.get("status").asText()).isEqualTo("ok"));

    worker.destroy(); // SIGTERM
    assertThat(worker.waitFor(30, TimeUnit.SECONDS)).as("the worker exits after SIGTERM").isTrue();
    assertThat(Files.readString(dir.resolve("worker.err")))
        .contains("conveyor worker: 1 worker(s) on kafka://");
  }

  @Test
  void benchRunsItsPipelineThroughKafka() throws Exception {
    broker = KafkaServer.start(Files.createDirectories(dir.resolve("kafka")));
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
            broker.uri("topic=bench&results=bench-results"),
            "--seconds",
            "0.5",
            "--batch",
            "4",
            "--chart",
            dir.resolve("bench.png").toString(),
            "--json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out()).contains("pipeline: kafka, end to end");
    assertThat(run.jsonLines().get(0).get("pipeline_ips").asDouble()).isPositive();
  }

  @Test
  void producingToABrokerThatIsDownReportsEveryImageNotSent() throws Exception {
    int closed = Ports.free();
    Path images = Files.createDirectories(dir.resolve("down"));
    Files.write(images.resolve("a.png"), new byte[] {1});
    Files.write(images.resolve("b.png"), new byte[] {2});
    CliRun run =
        CliRun.of(
            "produce", "--to", "kafka://127.0.0.1:" + closed, "--timeout", "2", images.toString());
    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    assertThat(run.err())
        .contains("sent 0 images")
        .contains("could not send 2 of 2 images")
        .contains("a.png: cannot reach Kafka")
        .contains("b.png: cannot reach Kafka");
  }

  @Test
  void serveOverKafkaWithItsOwnWorkerAnswersKServeAndSeed003Calls() throws Exception {
    broker = KafkaServer.start(Files.createDirectories(dir.resolve("kafka")));
    String uri = broker.uri("topic=serve-images&results=serve-results");
    try (ServeProcess serve =
        ServeProcess.start(ROOT, dir, "--transport", uri, "--workers", "1", "--timeout", "60")) {
      assertThat(Files.readString(serve.err)).contains("1 worker(s) in this process");
      FashionMnist test =
          FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(6);
      int right = 0;
      for (int i = 0; i < test.count(); i++) {
        String b64 = Base64.getEncoder().encodeToString(PngExport.png(test, i));
        String infer =
            "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1],"
                + "\"data\":[\""
                + b64
                + "\"]}]}";
        HttpResponse<String> r =
            serve.http.send(
                serve.post(
                    "/v2/models/fashion-mnist/infer",
                    "application/json",
                    infer.getBytes(StandardCharsets.UTF_8)),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode body = dev.conveyor.core.Json.mapper().readTree(r.body());
        if (body.at("/outputs/2/data/0").asInt() == test.label(i)) {
          right++;
        }
      }
      assertThat(right)
          .as("the bundled model through Kafka is right about most")
          .isGreaterThanOrEqualTo(5);
      JsonNode stats = serve.getJson("/v1/stats");
      assertThat(stats.at("/totals/ok").asLong()).isEqualTo(6);
      assertThat(stats.get("batch_sizes").size())
          .as("the worker in this process reports batches")
          .isPositive();
    }
  }
}
