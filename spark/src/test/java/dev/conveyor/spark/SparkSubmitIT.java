package dev.conveyor.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job jar submitted as a user submits it, to a standalone Spark cluster on loopback ({@link
 * SparkCluster}): {@code spark-submit} sends {@code conveyor-spark.jar} to it, and the cluster has
 * nothing of Conveyor's: the job jar brings the rest.
 */
@Timeout(300)
class SparkSubmitIT {
  static final Path JOB_JAR = Path.of("target", "conveyor-spark.jar");

  @TempDir Path dir;
  private SparkCluster cluster;

  @AfterEach
  void stopCluster() throws InterruptedException {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void sparkSubmitRunsTheJobJarOnAStandaloneCluster() throws Exception {
    cluster = SparkCluster.start(dir);
    Process submit =
        cluster.submit(
            "submit",
            "--class",
            "dev.conveyor.spark.ClassifyQuery",
            JOB_JAR.toAbsolutePath().toString(),
            "--source",
            TestImages.folder().toString(),
            "--checkpoints",
            dir.resolve("checkpoints").toString(),
            "--model",
            SparkJobIT.MODEL);
    assertThat(submit.waitFor(200, TimeUnit.SECONDS)).as("spark-submit finished").isTrue();
    String out = Files.readString(dir.resolve("submit.out"));
    String err = Files.readString(dir.resolve("submit.err"));
    assertThat(submit.exitValue()).as(err.substring(Math.max(0, err.length() - 4000))).isZero();
    long files =
        ImageFiles.expand(List.of(TestImages.folder())).stream()
            .filter(f -> f.toFile().length() > 0)
            .count();
    assertThat(out.lines().filter(l -> l.startsWith("{\"id\""))).hasSize((int) files);
    assertThat(err).containsPattern("classified " + files + " images \\(\\d+ errors\\) in");
  }
}
