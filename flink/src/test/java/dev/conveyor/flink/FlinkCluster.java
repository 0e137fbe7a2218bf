package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.testing.Hosts;
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

/**
 * A standalone Flink cluster on loopback for tests: a JobManager process and TaskManager processes,
 * started from Flink's own jars (the ones its distribution bundles, from Maven Central: the
 * distribution archive itself is not there) as Flink's start scripts start them, and {@code flink
 * run} (Flink's CliFrontend). The cluster's class path holds Flink and nothing of Conveyor's: a job
 * jar brings the rest.
 */
final class FlinkCluster implements AutoCloseable {
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

  /** The logger's lines with the time of day, to line up with the test's own. */
  private static final List<String> LOGGER =
      List.of(
          "-Dorg.slf4j.simpleLogger.showDateTime=true",
          "-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");

  private final Path dir;
  private final Path conf;
  private final String classpath;
  private final String restHost;
  private final int rest;
  private final int slotsPerTaskManager;
  private final List<Process> cluster = new ArrayList<>();
  private Process taskManager;
  private int taskManagers;

  private FlinkCluster(
      Path dir, Path conf, String classpath, String restHost, int rest, int slots) {
    this.dir = dir;
    this.conf = conf;
    this.classpath = classpath;
    this.restHost = restHost;
    this.rest = rest;
    this.slotsPerTaskManager = slots;
  }

  /**
   * Starts a JobManager and one TaskManager with {@code slots} slots, its logs in {@code dir}, with
   * these configuration lines besides the cluster's own; returns once the slots are offered.
   */
  static FlinkCluster start(Path dir, int slots, String... config) throws Exception {
    FlinkCluster c = configure(dir, slots, "127.0.0.1", "127.0.0.1", config);
    try {
      c.cluster.add(
          c.process(
              null,
              "jobmanager",
              "GET_JM_RESOURCE_PARAMS",
              "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"));
      c.startTaskManager();
    } catch (Exception | AssertionError e) {
      c.close();
      throw e;
    }
    return c;
  }

  /**
   * Starts the cluster across test hosts: the JobManager on {@code jobManager}, a TaskManager with
   * {@code slots} slots on each of {@code taskManagers}; returns once all their slots are offered.
   * {@code flink} and the REST API reach the JobManager at its host's address.
   */
  static FlinkCluster startOn(
      Path dir, int slots, Hosts.Host jobManager, List<Hosts.Host> taskManagers, String... config)
      throws Exception {
    FlinkCluster c = configure(dir, slots, jobManager.address(), "0.0.0.0", config);
    try {
      c.cluster.add(
          c.process(
              jobManager,
              "jobmanager",
              "GET_JM_RESOURCE_PARAMS",
              "org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint"));
      for (Hosts.Host h : taskManagers) {
        c.taskManager =
            c.process(
                h,
                "taskmanager-" + h.name(),
                "GET_TM_RESOURCE_PARAMS",
                "org.apache.flink.runtime.taskexecutor.TaskManagerRunner");
        c.cluster.add(c.taskManager);
      }
      c.waitForSlots(slots * taskManagers.size());
    } catch (Exception | AssertionError e) {
      c.close();
      throw e;
    }
    return c;
  }

  /**
   * Writes the configuration: the JobManager and REST at {@code address}, TaskManagers bound to
   * {@code bind}.
   */
  private static FlinkCluster configure(
      Path dir, int slots, String address, String bind, String... config) throws Exception {
    int rest = Ports.free();
    Path conf = Files.createDirectories(dir.resolve("conf"));
    List<String> lines =
        new ArrayList<>(
            List.of(
                "jobmanager.rpc.address: " + address,
                "jobmanager.rpc.port: " + Ports.free(),
                "jobmanager.bind-host: " + address,
                "jobmanager.memory.process.size: 1024m",
                "rest.address: " + address,
                "rest.bind-address: " + address,
                "rest.port: " + rest,
                "taskmanager.host: 127.0.0.1",
                "taskmanager.bind-host: " + bind,
                "taskmanager.numberOfTaskSlots: " + slots,
                "taskmanager.memory.process.size: 1600m",
                "taskmanager.memory.managed.size: 128m",
                "parallelism.default: 1",
                "io.tmp.dirs: " + Files.createDirectories(dir.resolve("tmp"))));
    lines.addAll(List.of(config));
    Files.writeString(conf.resolve("config.yaml"), String.join("\n", lines) + "\n");
    return new FlinkCluster(dir, conf, flinkClasspath(), address, rest, slots);
  }

  /** Starts a TaskManager (another, after one was killed); returns once its slots are offered. */
  Process startTaskManager() throws Exception {
    String name = "taskmanager" + (taskManagers == 0 ? "" : "-" + taskManagers);
    taskManagers++;
    taskManager =
        process(
            null,
            name,
            "GET_TM_RESOURCE_PARAMS",
            "org.apache.flink.runtime.taskexecutor.TaskManagerRunner");
    cluster.add(taskManager);
    waitForSlots(slotsPerTaskManager);
    return taskManager;
  }

  /** Kills the running TaskManager with SIGKILL: its tasks die with whatever they held. */
  void killTaskManager() throws InterruptedException {
    TestProcesses.kill(taskManager);
    cluster.remove(taskManager);
  }

  /** What the TaskManagers have logged, all of them. */
  String taskManagerLogs() throws IOException {
    StringBuilder s = new StringBuilder();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p :
          files.filter(f -> f.getFileName().toString().startsWith("taskmanager")).toList()) {
        s.append(Files.readString(p));
      }
    }
    return s.toString();
  }

  /**
   * Runs Flink's command line ({@code flink ARGS}) against the cluster, its output in dir/NAME.*.
   */
  Process flink(String name, String... args) throws IOException {
    List<String> all = new ArrayList<>(List.of("org.apache.flink.client.cli.CliFrontend"));
    all.addAll(List.of(args));
    return java(name, "-Xmx512m", all.toArray(String[]::new));
  }

  @Override
  public void close() throws InterruptedException {
    TestProcesses.stopAll(cluster, Duration.ofSeconds(20));
  }

  /**
   * A cluster process: its JVM options and dynamic properties computed by Flink's {@code
   * BashJavaUtils} from the configuration, as {@code jobmanager.sh} and {@code taskmanager.sh} do.
   */
  private Process process(Hosts.Host host, String name, String resources, String entryPoint)
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
    command.addAll(LOGGER);
    command.addAll(List.of("-cp", classpath, entryPoint, "--configDir", conf.toString()));
    command.addAll(List.of(results.get(1).split("\\s+")));
    if (host != null) {
      // on a host of its own: reached at its address, its output in NAME.log
      if (name.startsWith("taskmanager")) {
        command.addAll(List.of("-D", "taskmanager.host=" + host.address()));
      }
      List<String> withConf = new ArrayList<>(List.of("env", "FLINK_CONF_DIR=" + conf));
      withConf.addAll(command);
      return host.start(withConf, dir.resolve(name + ".log"));
    }
    ProcessBuilder b =
        new ProcessBuilder(command)
            .redirectOutput(dir.resolve(name + ".out").toFile())
            .redirectError(dir.resolve(name + ".err").toFile());
    b.environment().put("FLINK_CONF_DIR", conf.toString());
    return b.start();
  }

  /** Flink's jars among those the build copied to target/lib, without any of Conveyor's. */
  private static String flinkClasspath() throws IOException, java.net.URISyntaxException {
    try (Stream<Path> jars = Files.list(Path.of("target", "lib"))) {
      List<String> chosen =
          jars.filter(p -> FLINK_LIB.matcher(p.getFileName().toString()).matches())
              .map(p -> p.toAbsolutePath().toString())
              .sorted()
              .collect(Collectors.toList());
      assertThat(chosen).anyMatch(p -> p.contains("flink-runtime-"));
      assertThat(chosen).noneMatch(p -> p.contains("conveyor") || p.contains("onnxruntime"));
      assertThat(chosen).noneMatch(p -> p.contains("kafka"));
      // a logger, as Flink's distribution has (Log4j there; SLF4J's simple one, from this test's
      // own class path, here): each process logs to its .err file, read after a failure
      chosen = new ArrayList<>(chosen);
      chosen.add(
          Path.of(
                  org.slf4j.simple.SimpleLogger.class
                      .getProtectionDomain()
                      .getCodeSource()
                      .getLocation()
                      .toURI())
              .toString());
      return String.join(File.pathSeparator, chosen);
    }
  }

  private Process java(String name, String heap, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.add(heap);
    command.addAll(JAVA_17_OPTIONS);
    command.addAll(LOGGER);
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
  private void waitForSlots(int slots) throws Exception {
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
                HttpRequest.newBuilder(URI.create(restUrl() + "/overview")).build(),
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

  /** The REST API's address. */
  String restUrl() {
    return "http://" + restHost + ":" + rest;
  }

  /** The cluster's logs, for a failure's message. */
  String logs() throws IOException {
    StringBuilder s = new StringBuilder();
    List<Path> logs;
    try (var files = Files.list(dir)) {
      logs =
          files
              .filter(
                  f -> f.getFileName().toString().matches("(job|task)manager.*\\.(out|err|log)"))
              .sorted()
              .toList();
    }
    for (Path log : logs) {
      String text = Files.readString(log);
      s.append("\n--- ").append(log.getFileName()).append(":\n");
      s.append(text, Math.max(0, text.length() - 3000), text.length());
    }
    return s.toString();
  }
}
