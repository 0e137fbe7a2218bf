package dev.conveyor.kafka;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;

/**
 * A real Kafka broker in KRaft mode (broker and controller in one process), started from Kafka's
 * jars on the test class path in a JVM of its own, on free loopback ports.
 */
public final class KafkaServer implements AutoCloseable {
  private final Process process;
  private final int port;

  private KafkaServer(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  public static KafkaServer start(Path dir) throws Exception {
    int port = freePort();
    int controller = freePort();
    Path config = dir.resolve("server.properties");
    Files.writeString(
        config,
        String.join(
            "\n",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@127.0.0.1:" + controller,
            "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controller,
            "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            "log.dirs=" + dir.resolve("data"),
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=4",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "message.max.bytes=22020096",
            ""));
    run(
            List.of(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                Uuid.randomUuid().toString(),
                "-c",
                config.toString()),
            dir.resolve("format.log"))
        .waitFor(60, TimeUnit.SECONDS);
    Process broker = run(List.of("kafka.Kafka", config.toString()), dir.resolve("kafka.log"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return new KafkaServer(broker, port);
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline || !broker.isAlive()) {
          broker.destroyForcibly();
          throw new IllegalStateException("Kafka did not start; see " + dir.resolve("kafka.log"));
        }
        Thread.sleep(100);
      }
    }
  }

  private static Process run(List<String> mainAndArgs, Path log) throws IOException {
    List<String> command =
        new java.util.ArrayList<>(
            List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m",
                "-cp",
                System.getProperty("java.class.path")));
    command.addAll(mainAndArgs);
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(log.toFile())
        .start();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A Kafka URI for this broker, with query settings. */
  public String uri(String query) {
    return "kafka://127.0.0.1:" + port + (query.isEmpty() ? "" : "?" + query);
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }
}
