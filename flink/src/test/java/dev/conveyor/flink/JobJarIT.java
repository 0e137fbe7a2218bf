package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The job jar `flink run` takes: Conveyor and its libraries, and none of Flink's own classes. */
@Timeout(60)
class JobJarIT {
  private static final Path JAR = Path.of("target", "conveyor-flink.jar");

  @Test
  void theJobJarHoldsThePipelineAndLeavesFlinkToTheCluster() throws Exception {
    assertThat(JAR).exists();
    try (JarFile jar = new JarFile(JAR.toFile())) {
      List<String> names = jar.stream().map(ZipEntry::getName).toList();
      assertThat(names)
          .contains(
              "dev/conveyor/flink/ClassifyJob.class",
              "dev/conveyor/flink/ClassifyOperator.class",
              "dev/conveyor/assembly/Pipelines.class",
              "dev/conveyor/core/pipeline/Pipeline.class",
              "ai/onnxruntime/OrtSession.class");
      List<String> connector;
      try (Stream<Path> lib = Files.list(Path.of("target", "lib"));
          JarFile kafka =
              new JarFile(
                  lib.filter(p -> p.getFileName().toString().startsWith("flink-connector-kafka-"))
                      .findFirst()
                      .orElseThrow()
                      .toFile())) {
        connector = kafka.stream().map(ZipEntry::getName).toList();
      }
      assertThat(names)
          .filteredOn(n -> n.startsWith("org/apache/flink/") && n.endsWith(".class"))
          .as("of Flink, only the Kafka connector, which the cluster does not have")
          .isNotEmpty()
          .allMatch(connector::contains);
      assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
          .isEqualTo("dev.conveyor.flink.ClassifyJob");
    }
    assertThat(Files.size(JAR)).isGreaterThan(1 << 20);
  }
}
