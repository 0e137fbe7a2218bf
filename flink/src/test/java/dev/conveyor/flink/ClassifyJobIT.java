package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.assembly.Pipelines;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.fetch.FetchAllow;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.testing.TestImages;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The job on Flink's MiniCluster, parallelism 2, a folder of good and broken images. */
@Timeout(120)
class ClassifyJobIT {
  /** A metric reporter, as a cluster's Prometheus or JMX reporter sees the task's metrics. */
  static final InMemoryReporter REPORTER = InMemoryReporter.createWithRetainedMetrics();

  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .setConfiguration(REPORTER.addToConfiguration(new Configuration()))
              .build());

  @Test
  void aFolderIsClassifiedInParallelOnceEachAsClassifyWouldAnswer() throws Exception {
    Path folder = TestImages.folder();
    Map<String, String> pipeline = Map.of("model", ClassifyOperatorTest.MODEL, "batch", "4");
    Map<String, String> settings = new HashMap<>(pipeline);
    settings.put("source", folder.toString());
    settings.put("parallelism", "2");
    List<JsonNode> results = new ArrayList<>();
    Engine.Report report =
        FlinkJob.of(settings)
            .run(
                StreamExecutionEnvironment.getExecutionEnvironment(),
                UnaryOperator.identity(),
                new Engine.Listener() {
                  @Override
                  public void result(String json) {
                    results.add(Json.read(json, JsonNode.class));
                  }
                });

    List<Path> files = ImageFiles.expand(List.of(folder));
    assertThat(results).hasSize(files.size());
    assertThat(report.results()).isEqualTo(files.size());
    Map<String, String> answers = new HashMap<>();
    for (JsonNode r : results) {
      assertThat(answers.put(r.get("source").asText(), answer(r))).as("each image once").isNull();
    }
    Map<String, String> expected = new HashMap<>();
    // the operator's own files, read by key to compare
    try (Pipeline classify =
        Pipelines.open(Pipelines.read(pipeline, "test"), FetchAllow.parse("file:/"))) {
      for (Path f : files) {
        ClassifyResult r = classify.classify(List.of(ImageRequest.ofKey(f.toString()))).get(0);
        expected.put(f.toString(), answer(Json.read(Json.write(r), JsonNode.class)));
      }
    }
    assertThat(answers).as("the answers conveyor classify gives").isEqualTo(expected);
    assertThat(answers.values())
        .contains("error CORRUPT", "error EMPTY", "error UNSUPPORTED_FORMAT");
    assertThat(report.errors()).isPositive().isLessThan(files.size());
    assertThat(report.imagesPerSecond()).isPositive();

    Map<String, Metric> metrics = new HashMap<>();
    REPORTER
        .getMetricsByGroup()
        .forEach(
            (group, byName) ->
                byName.forEach((name, m) -> metrics.put(group.getMetricIdentifier(name), m)));
    assertThat(sum(metrics, ".conveyor.images"))
        .as("images, over both tasks")
        .isEqualTo(files.size());
    assertThat(sum(metrics, ".conveyor.errors")).isEqualTo(report.errors());
    assertThat(sum(metrics, ".conveyor.code.CORRUPT.errors")).isPositive();
    assertThat(metrics.keySet())
        .anyMatch(k -> k.endsWith(".conveyor.imagesPerSecond"))
        .anyMatch(k -> k.endsWith(".conveyor.batchSize"))
        .anyMatch(k -> k.endsWith(".conveyor.latencyMs"));
    assertThat(
            metrics.entrySet().stream()
                .filter(e -> e.getKey().endsWith(".conveyor.batchSize"))
                .mapToLong(e -> ((Histogram) e.getValue()).getStatistics().getMax()))
        .as("batches of up to --batch 4")
        .allMatch(max -> max >= 1 && max <= 4);
  }

  /** The sum of the counters whose identifier ends so, over every task that registered one. */
  private static long sum(Map<String, Metric> metrics, String suffix) {
    return metrics.entrySet().stream()
        .filter(e -> e.getKey().endsWith(suffix))
        .mapToLong(e -> ((Counter) e.getValue()).getCount())
        .sum();
  }

  /** What a result says: the top label and score, or the error code. */
  private static String answer(JsonNode r) {
    if (r.get("status").asText().equals("ok")) {
      JsonNode top = r.at("/predictions/0");
      return "ok %s %.4f".formatted(top.get("label").asText(), top.get("score").asDouble());
    }
    return "error " + r.at("/error/code").asText();
  }
}
