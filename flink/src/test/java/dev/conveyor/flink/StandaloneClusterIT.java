package dev.conveyor.flink;

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
 * The job jar submitted as a user submits it, to a standalone Flink cluster on loopback ({@link
 * FlinkCluster}): {@code flink run} (Flink's CliFrontend) sends {@code conveyor-flink.jar} to it.
 * The cluster's class path holds Flink and nothing of Conveyor's: the job jar brings the rest.
 */
@Timeout(300)
class StandaloneClusterIT {
  static final Path JOB_JAR = Path.of("target", "conveyor-flink.jar");

  @TempDir Path dir;
  private FlinkCluster cluster;

  @AfterEach
  void stopCluster() throws InterruptedException {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void flinkRunSubmitsTheJobJarToAStandaloneCluster() throws Exception {
    cluster = FlinkCluster.start(dir, 2);
    Process run =
        cluster.flink(
            "flink-run",
            "run",
            "-p",
            "2",
            "-c",
            "dev.conveyor.flink.ClassifyJob",
            JOB_JAR.toAbsolutePath().toString(),
            "--source",
            TestImages.folder().toString(),
            "--sink",
            "-",
            "--model",
            ClassifyOperatorTest.MODEL,
            "--batch",
            "4");
    assertThat(run.waitFor(180, TimeUnit.SECONDS)).as("flink run finished").isTrue();
    String out = Files.readString(dir.resolve("flink-run.out"));
    String err = Files.readString(dir.resolve("flink-run.err"));
    assertThat(run.exitValue()).as(err + out).isZero();
    int files = ImageFiles.expand(List.of(TestImages.folder())).size();
    assertThat(out.lines().filter(l -> l.startsWith("{\"id\""))).hasSize(files);
    assertThat(err).containsPattern("classified " + files + " images \\(\\d+ errors\\) in");
  }
}
