package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import dev.conveyor.core.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The job on Flink's MiniCluster, two task slots. */
@Timeout(120)
class ClassifyJobIT {
  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  @Test
  void aFolderIsClassifiedInParallelWithOneResultPerImage() throws Exception {
    Path folder = TestImages.folder();
    long files;
    try (Stream<Path> list = Files.list(folder)) {
      files = list.filter(Files::isRegularFile).count();
    }
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    List<JsonNode> results = new ArrayList<>();
    ClassifyJob.Report report =
        ClassifyJob.run(
            env,
            folder,
            ClassifyJob.images(folder),
            Map.of("model", ClassifyOperatorTest.MODEL, "batch", "4"),
            json -> results.add(Json.read(json, JsonNode.class)));
    assertThat(results).hasSize((int) files);
    assertThat(report.results()).isEqualTo(files);
    assertThat(results.stream().map(r -> r.get("source").asText()).distinct().count())
        .as("each image once")
        .isEqualTo(files);
    assertThat(results)
        .filteredOn(r -> r.get("status").asText().equals("error"))
        .extracting(r -> r.at("/error/code").asText())
        .contains("CORRUPT", "EMPTY", "UNSUPPORTED_FORMAT");
    assertThat(results.stream().map(r -> r.get("host").asText()).distinct()).isNotEmpty();
    assertThat(report.errors()).isPositive().isLessThan(files);
    assertThat(report.imagesPerSecond()).isPositive();
  }
}
