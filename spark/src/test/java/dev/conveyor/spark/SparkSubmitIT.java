package dev.conveyor.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.testing.Ports;
import dev.conveyor.testing.TestProcesses;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job jar submitted as a user submits it, to a standalone Spark cluster on loopback: a master
 * process and a worker process with two cores, which launches the executors, and {@code
 * spark-submit} (Spark's {@code SparkSubmit}) sending {@code conveyor-spark.jar} to it. Spark's
 * distribution archive is not on Maven Central, so its home here is a {@code jars} folder of the
 * same jars from there, and the cluster has nothing of Conveyor's: the job jar brings the rest.
 */
@Timeout(300)
class SparkSubmitIT {
  @TempDir Path dir;
  private final List<Process> cluster = new ArrayList<>();

  @AfterEach
  void stopCluster() throws InterruptedException {
    TestProcesses.stopAll(cluster, Duration.ofSeconds(20));
  }

  @Test
  void sparkSubmitRunsTheJobJarOnAStandaloneCluster() throws Exception {
    Path home = sparkHome();
    int port = Ports.free();
    String master = "spark://127.0.0.1:" + port;
    cluster.add(
        spark(
            home,
            "master",
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            Integer.toString(port),
            "--webui-port",
            Integer.toString(Ports.free())));
    cluster.add(
        spark(
            home,
            "worker",
            "org.apache.spark.deploy.worker.Worker",
            "--host",
            "127.0.0.1",
            "--cores",
            "2",
            "--memory",
            "2g",
            "--webui-port",
            Integer.toString(Ports.free()),
            "--work-dir",
            Files.createDirectories(dir.resolve("work")).toString(),
            master));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (!Files.readString(dir.resolve("worker.err")).contains("Successfully registered")) {
      for (Process p : cluster) {
        assertThat(p.isAlive()).as("a cluster process exited; see %s", dir).isTrue();
      }
      assertThat(System.nanoTime()).as("the worker registered").isLessThan(deadline);
      Thread.sleep(200);
    }

    Process submit =
        spark(
            home,
            "submit",
            "org.apache.spark.deploy.SparkSubmit",
            "--master",
            master,
            "--conf",
            "spark.ui.enabled=false",
            "--executor-memory",
            "1g",
            "--class",
            "dev.conveyor.spark.ClassifyQuery",
            Path.of("target", "conveyor-spark.jar").toAbsolutePath().toString(),
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

  /**
   * A Spark home as the distribution lays it out: {@code jars/} (Spark's jars from the build's
   * target/lib, none of Conveyor's, no Kafka) and {@code RELEASE}.
   */
  private Path sparkHome() throws IOException {
    Path home = dir.resolve("spark-home");
    Path jars = Files.createDirectories(home.resolve("jars"));
    try (Stream<Path> lib = Files.list(Path.of("target", "lib"))) {
      for (Path jar : lib.toList()) {
        String name = jar.getFileName().toString();
        if (!name.contains("conveyor")
            && !name.contains("kafka")
            && !name.contains("lettuce")
            && !name.contains("commons-pool2")) {
          Files.createSymbolicLink(jars.resolve(name), jar.toAbsolutePath());
        }
      }
    }
    assertThat(jars.resolve("spark-core_2.13-4.0.0.jar")).exists();
    Files.writeString(home.resolve("RELEASE"), "Spark 4.0.0, its jars from Maven Central\n");
    return home;
  }

  /** A Spark process, as the distribution's scripts start one (home, Scala version, options). */
  private Process spark(Path home, String name, String main, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-Xmx512m");
    for (String option : System.getProperty("spark.java.options", "").split("\\s+")) {
      if (!option.isEmpty()) {
        command.add(option);
      }
    }
    command.addAll(List.of("-cp", home.resolve("jars") + "/*", main));
    command.addAll(List.of(args));
    ProcessBuilder b =
        new ProcessBuilder(command)
            .directory(dir.toFile())
            .redirectOutput(dir.resolve(name + ".out").toFile())
            .redirectError(dir.resolve(name + ".err").toFile());
    b.environment().put("SPARK_HOME", home.toString());
    b.environment().put("SPARK_SCALA_VERSION", "2.13");
    return b.start();
  }
}
