package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.testing.Ports;
import dev.conveyor.testing.TestProcesses;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job jar submitted as a user submits it, to a standalone Flink cluster on loopback: a
 * JobManager process and a TaskManager process with two slots, started from Flink's own jars (the
 * ones its distribution bundles, from Maven Central: the distribution archive itself is not there),
 * and {@code flink run} (Flink's CliFrontend) sending {@code conveyor-flink.jar} to it. The
 * cluster's class path holds Flink and nothing of Conveyor's: the job jar brings the rest.
 */
@Timeout(300)
class StandaloneClusterIT {
  private static final Path JOB_JAR = Path.of("target", "conveyor-flink.jar");

  /** What a Flink distribution's lib folder holds: Flink and its own dependencies. */
  private static final Pattern FLINK_LIB =
      Pattern.compile(
          "(flink-(?!connector-kafka).*|commons-.*|kryo-.*|minlog-.*|objenesis-.*|reflectasm-.*"
              + "|javassist-.*|lz4-java-.*|snakeyaml-engine-.*|slf4j-api-.*|jsr305-.*"
              + "|async-profiler-.*)\\.jar");

  /**
   * What Flink's distribution gives every process in {@code env.java.opts.all} on Java 17: Flink
   * reaches into these JDK packages.
   */
  private static final List<String> JAVA_17_OPTIONS =
      List.of(
          "--add-exports=java.base/sun.net.util=ALL-UNNAMED",
          "--add-exports=java.rmi/sun.rmi.registry=ALL-UNNAMED",
          "--add-exports=java.security.jgss/sun.security.krb5=ALL-UNNAMED",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.net=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.nio=ALL-UNNAMED",
          "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=java.base/java.text=ALL-UNNAMED",
          "--add-opens=java.base/java.time=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED",
          "--add-opens=java.base/java.util.concurrent.locks=ALL-UNNAMED");

  @TempDir Path dir;
  private final List<Process> cluster = new ArrayList<>();

  @AfterEach
  void stopCluster() throws InterruptedException {
    TestProcesses.stopAll(cluster, Duration.ofSeconds(20));
  }

  @Test
  void flinkRunSubmitsTheJobJarToAStandaloneCluster() throws Exception {
    String classpath = flinkClasspath();
    int rest = Ports.free();
    Path conf = Files.createDirectories(dir.resolve("conf"));
    Files.writeString(
        conf.resolve("config.yaml"),
        String.join(
            "\n",
            "jobmanager.rpc.address: 127.0.0.1",
            "jobmanager.rpc.port: " + Ports.free(),
            "jobmanager.bind-host: 127.0.0.1",
            "jobmanager.memory.process.size: 1024m",
            "rest.address: 127.0.0.1",
            "rest.bind-address: 127.0.0.1",
            "rest.port: " + rest,
            "taskmanager.host: 127.0.0.1",
            "taskmanager.bind-host: 127.0.0.1",
            "taskmanager.numberOfTaskSlots: 2",
            "taskmanager.memory.process.size: 1600m",
            "taskmanager.memory.managed.size: 128m",
            "parallelism.default: 1",
            "io.tmp.dirs: " + Files.createDirectories(dir.resolve("tmp")),
            ""));
    // as Flink's start scripts do: the processes' memory from BashJavaUtils, then the entry points
    cluster.add(
        process(
            classpath,
            conf,
            "jobmanager",
            "GET_JM_RESOURCE_PARAMS",
            "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"));
    cluster.add(
        process(
            classpath,
            conf,
            "taskmanager",
            "GET_TM_RESOURCE_PARAMS",
            "org.apache.flink.runtime.taskexecutor.TaskManagerRunner"));
    waitForSlots(rest, 2);

    Process run =
        java(
            classpath,
            conf,
            "flink-run",
            "-Xmx512m",
            "org.apache.flink.client.cli.CliFrontend",
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

  /**
   * A cluster process: its JVM options and dynamic properties computed by Flink's {@code
   * BashJavaUtils} from the configuration, as {@code jobmanager.sh} and {@code taskmanager.sh} do.
   */
  private Process process(
      String classpath, Path conf, String name, String resources, String entryPoint)
      throws Exception {
    Process utils =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp",
                classpath,
                "org.apache.flink.runtime.util.bash.BashJavaUtils",
                resources,
                "--configDir",
                conf.toString())
            .redirectErrorStream(true)
            .start();
    List<String> results =
        new String(utils.getInputStream().readAllBytes())
            .lines()
            .filter(l -> l.startsWith("BASH_JAVA_UTILS_EXEC_RESULT:"))
            .map(l -> l.substring("BASH_JAVA_UTILS_EXEC_RESULT:".length()).trim())
            .toList();
    assertThat(utils.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(results).as("BashJavaUtils' JVM options and dynamic properties").hasSize(2);
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of(results.get(0).split("\\s+")));
    command.addAll(JAVA_17_OPTIONS);
    command.addAll(List.of("-cp", classpath, entryPoint, "--configDir", conf.toString()));
    command.addAll(List.of(results.get(1).split("\\s+")));
    ProcessBuilder b =
        new ProcessBuilder(command)
            .redirectOutput(dir.resolve(name + ".out").toFile())
            .redirectError(dir.resolve(name + ".err").toFile());
    b.environment().put("FLINK_CONF_DIR", conf.toString());
    return b.start();
  }

  /** Flink's jars among those the build copied to target/lib, without any of Conveyor's. */
  private static String flinkClasspath() throws IOException {
    try (Stream<Path> jars = Files.list(Path.of("target", "lib"))) {
      List<String> chosen =
          jars.filter(p -> FLINK_LIB.matcher(p.getFileName().toString()).matches())
              .map(p -> p.toAbsolutePath().toString())
              .sorted()
              .collect(Collectors.toList());
      assertThat(chosen).anyMatch(p -> p.contains("flink-runtime-"));
      assertThat(chosen).noneMatch(p -> p.contains("conveyor") || p.contains("onnxruntime"));
      assertThat(chosen).noneMatch(p -> p.contains("kafka"));
      return String.join(File.pathSeparator, chosen);
    }
  }

  private Process java(String classpath, Path conf, String name, String heap, String... args)
      throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add(heap);
    command.addAll(JAVA_17_OPTIONS);
    command.add("-cp");
    command.add(classpath);
    command.addAll(List.of(args));
    ProcessBuilder b =
        new ProcessBuilder(command)
            .redirectOutput(dir.resolve(name + ".out").toFile())
            .redirectError(dir.resolve(name + ".err").toFile());
    b.environment().put("FLINK_CONF_DIR", conf.toString());
    return b.start();
  }

  /** Waits until the cluster's REST API reports this many task slots. */
  private void waitForSlots(int port, int slots) throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    Pattern total = Pattern.compile("\"slots-total\"\\s*:\\s*" + slots + "\\b");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (System.nanoTime() < deadline) {
      for (Process p : cluster) {
        assertThat(p.isAlive()).as("a cluster process exited: %s", logs()).isTrue();
      }
      try {
        HttpResponse<String> r =
            http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/overview"))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 200 && total.matcher(r.body()).find()) {
          return;
        }
      } catch (IOException notYet) {
        // the JobManager is still starting
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the cluster did not offer " + slots + " slots: " + logs());
  }

  /** The cluster's logs, for a failure's message. */
  private String logs() throws IOException {
    StringBuilder s = new StringBuilder();
    for (String name : List.of("jobmanager", "taskmanager")) {
      for (String ext : List.of(".out", ".err")) {
        Path log = dir.resolve(name + ext);
        if (Files.exists(log)) {
          String text = Files.readString(log);
          s.append("\n--- ").append(name).append(ext).append(":\n");
          s.append(text, Math.max(0, text.length() - 3000), text.length());
        }
      }
    }
    return s.toString();
  }
}
