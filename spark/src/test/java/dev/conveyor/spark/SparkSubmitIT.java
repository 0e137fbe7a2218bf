package dev.conveyor.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.image.ImageFiles;
import dev.conveyor.core.testing.TestImages;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job jar submitted as a user submits it: Spark's {@code SparkSubmit} (what {@code
 * spark-submit} runs) in its own process, on Spark's jars only (the distribution's, from Maven
 * Central: the archive itself is not there), with {@code conveyor-spark.jar} bringing the rest.
 */
@Timeout(240)
class SparkSubmitIT {
  @TempDir Path dir;

  @Test
  void sparkSubmitRunsTheJobJar() throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx1g");
    command.addAll(List.of(System.getProperty("spark.java.options", "").split("\\s+")));
    command.addAll(List.of("-cp", sparkClasspath(), "org.apache.spark.deploy.SparkSubmit"));
    command.addAll(
        List.of(
            "--master",
            "local[2]",
            "--conf",
            "spark.ui.enabled=false",
            "--class",
            "dev.conveyor.spark.ClassifyQuery",
            Path.of("target", "conveyor-spark.jar").toAbsolutePath().toString(),
            "--source",
            TestImages.folder().toString(),
            "--checkpoints",
            dir.resolve("checkpoints").toString(),
            "--model",
            SparkJobIT.MODEL));
    command.removeIf(String::isEmpty);
    Process submit =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectOutput(dir.resolve("out").toFile())
            .redirectError(dir.resolve("err").toFile())
            .start();
    assertThat(submit.waitFor(200, TimeUnit.SECONDS)).as("spark-submit finished").isTrue();
    String out = Files.readString(dir.resolve("out"));
    String err = Files.readString(dir.resolve("err"));
    assertThat(submit.exitValue()).as(err.substring(Math.max(0, err.length() - 4000))).isZero();
    long files =
        ImageFiles.expand(List.of(TestImages.folder())).stream()
            .filter(f -> f.toFile().length() > 0)
            .count();
    assertThat(out.lines().filter(l -> l.startsWith("{\"id\""))).hasSize((int) files);
    assertThat(err).containsPattern("classified " + files + " images \\(\\d+ errors\\) in");
  }

  /** Spark's jars among those the build copied to target/lib: none of Conveyor's, no Kafka. */
  private static String sparkClasspath() throws Exception {
    try (Stream<Path> jars = Files.list(Path.of("target", "lib"))) {
      List<String> chosen =
          jars.map(p -> p.toAbsolutePath().toString())
              .filter(
                  p ->
                      !p.contains("conveyor")
                          && !p.contains("kafka")
                          && !p.contains("lettuce")
                          && !p.contains("commons-pool2"))
              .sorted()
              .toList();
      assertThat(chosen).anyMatch(p -> p.contains("spark-core_"));
      return String.join(File.pathSeparator, chosen);
    }
  }
}
