package dev.conveyor.kafka;

import dev.conveyor.testing.TestTls;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * A real Kafka broker in KRaft mode (broker and controller in one process), started from Kafka's
 * jars on the test class path in a JVM of its own, on free loopback ports. Besides its plain
 * listener it has a SASL_SSL one, TLS with the test certificate and SCRAM-SHA-512 for the user
 * {@link #USER}. It can be killed with SIGKILL and started again on the same ports and data.
 */
public final class KafkaServer implements AutoCloseable {
  /** The SCRAM user of the SASL_SSL listener, and its password. */
  public static final String USER = "conveyor";

  public static final String PASSWORD = "scram-pass-3";

  private final Path dir;
  private final Path config;
  private final int port;
  private final int securePort;
  private final TestTls tls;
  private Process process;

  private KafkaServer(Path dir, Path config, int port, int securePort, TestTls tls) {
    this.dir = dir;
    this.config = config;
    this.port = port;
    this.securePort = securePort;
    this.tls = tls;
  }

  public static KafkaServer start(Path dir) throws Exception {
    int port = freePort();
    int secure = freePort();
    int controller = freePort();
    TestTls tls = TestTls.write(dir.resolve("tls"));
    Path config = dir.resolve("server.properties");
    Files.writeString(
        config,
        String.join(
            "\n",
            "process.roles=broker,controller",
            "node.id=1",
            "controller.quorum.voters=1@127.0.0.1:" + controller,
            "listeners=PLAINTEXT://127.0.0.1:"
                + port
                + ",SASL_SSL://127.0.0.1:"
                + secure
                + ",CONTROLLER://127.0.0.1:"
                + controller,
            "advertised.listeners=PLAINTEXT://127.0.0.1:"
                + port
                + ",SASL_SSL://127.0.0.1:"
                + secure,
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            "listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
                + "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            "listener.name.sasl_ssl.ssl.keystore.type=PEM",
            "listener.name.sasl_ssl.ssl.keystore.location=" + tls.bundle(dir.resolve("tls")),
            "log.dirs=" + dir.resolve("data"),
            "offsets.topic.replication.factor=1",
            "offsets.topic.num.partitions=4",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "group.initial.rebalance.delay.ms=0",
            "message.max.bytes=22020096",
            ""));
    Process format =
        run(
            List.of(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                Uuid.randomUuid().toString(),
                "-c",
                config.toString(),
                "-S",
                "SCRAM-SHA-512=[name=" + USER + ",password=" + PASSWORD + "]"),
            dir.resolve("format.log"));
    if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
      throw new IllegalStateException(
          "formatting Kafka's storage failed: " + Files.readString(dir.resolve("format.log")));
    }
    KafkaServer server = new KafkaServer(dir, config, port, secure, tls);
    server.launch();
    return server;
  }

  private void launch() throws Exception {
    process = run(List.of("kafka.Kafka", config.toString()), dir.resolve("kafka.log"));
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException notYet) {
        if (System.nanoTime() > deadline || !process.isAlive()) {
          process.destroyForcibly();
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
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A Kafka URI for this broker's plain listener, with query settings. */
  public String uri(String query) {
    return "kafka://127.0.0.1:" + port + (query.isEmpty() ? "" : "?" + query);
  }

  /**
   * A Kafka URI for the SASL_SSL listener, as a user writes one: SCRAM-SHA-512 as {@code user} with
   * {@code password}, trusting the test certificate.
   */
  public String secureUri(String query, String user, String password) {
    String jaas =
        "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"%s\" password=\"%s\";"
            .formatted(user, password);
    return "kafka://127.0.0.1:"
        + securePort
        + "?"
        + query
        + "&kafka.security.protocol=SASL_SSL&kafka.sasl.mechanism=SCRAM-SHA-512"
        + "&kafka.sasl.jaas.config="
        + URLEncoder.encode(jaas, StandardCharsets.UTF_8)
        + "&kafka.ssl.truststore.type=PEM&kafka.ssl.truststore.location="
        + tls.certificate();
  }

  /** A consumer of every record of {@code topic} from its start, as tests read what came out. */
  static KafkaConsumer<String, byte[]> readFromStart(KafkaAddress address, String topic) {
    Properties p = address.properties();
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p);
    try {
      List<TopicPartition> parts = new ArrayList<>();
      for (PartitionInfo info : c.partitionsFor(topic, Duration.ofSeconds(60))) {
        parts.add(new TopicPartition(topic, info.partition()));
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      return c;
    } catch (RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** Kills the broker with SIGKILL: no shutdown, no flush. */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  /** Starts the broker again after {@link #kill()}, on the same ports and data. */
  public void launchAgain() throws Exception {
    launch();
  }

  @Override
  public void close() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(20, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }
}
