package dev.conveyor.spark;

import static org.assertj.core.api.Assertions.assertThat;

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

/**
 * A standalone Spark cluster on loopback for tests: a master process and a worker process with two
 * cores, which launches the executors, started as the distribution's scripts start them, and {@code
 * spark-submit} (Spark's {@code SparkSubmit}). Spark's distribution archive is not on Maven
 * Central, so its home here is a {@code jars} folder of the same jars from there, and the cluster
 * has nothing of Conveyor's: a job jar brings the rest.
 */
final class SparkCluster implements AutoCloseable {
  private final Path dir;
  private final Path home;
  private final String master;
  private final List<Process> processes = new ArrayList<>();
  private Process worker;

  private SparkCluster(Path dir, Path home, String master) {
    this.dir = dir;
    this.home = home;
    this.master = master;
  }

  /** Starts the master and the worker, their logs in {@code dir}; returns once they are joined. */
  static SparkCluster start(Path dir) throws Exception {
    int port = Ports.free();
    SparkCluster c = new SparkCluster(dir, sparkHome(dir), "spark://127.0.0.1:" + port);
    try {
      c.processes.add(
          c.spark(
              "master",
              "org.apache.spark.deploy.master.Master",
              "--host",
              "127.0.0.1",
              "--port",
              Integer.toString(port),
              "--webui-port",
              Integer.toString(Ports.free())));
      c.worker =
          c.spark(
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
              c.master);
      c.processes.add(c.worker);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
      while (!Files.readString(dir.resolve("worker.err")).contains("Successfully registered")) {
        for (Process p : c.processes) {
          assertThat(p.isAlive()).as("a cluster process exited; see %s", dir).isTrue();
        }
        assertThat(System.nanoTime()).as("the worker registered").isLessThan(deadline);
        Thread.sleep(200);
      }
    } catch (Exception | AssertionError e) {
      c.close();
      throw e;
    }
    return c;
  }

  /**
   * Runs {@code spark-submit} against the cluster (the job jar, its class and arguments), its
   * output in dir/NAME.*; the cluster stops it when it closes.
   */
  Process submit(String name, String... args) throws IOException {
    List<String> all =
        new ArrayList<>(
            List.of(
                "org.apache.spark.deploy.SparkSubmit",
                "--master",
                master,
                "--conf",
                "spark.ui.enabled=false",
                "--executor-memory",
                "1g"));
    all.addAll(List.of(args));
    Process p = spark(name, all.get(0), all.subList(1, all.size()).toArray(String[]::new));
    processes.add(p);
    return p;
  }

  /** The executors the worker runs now. */
  List<ProcessHandle> executors() {
    return worker
        .descendants()
        .filter(
            h ->
                h.isAlive()
                    && h.info()
                        .commandLine()
                        .orElse("")
                        .contains("org.apache.spark.executor.CoarseGrainedExecutorBackend"))
        .toList();
  }

  @Override
  public void close() throws InterruptedException {
    TestProcesses.stopAll(processes, Duration.ofSeconds(20));
  }

  /**
   * A Spark home as the distribution lays it out: {@code jars/} (Spark's jars from the build's
   * target/lib, none of Conveyor's, no Kafka) and {@code RELEASE}.
   */
  private static Path sparkHome(Path dir) throws IOException {
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
  private Process spark(String name, String main, String... args) throws IOException {
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
