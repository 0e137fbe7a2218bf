package dev.conveyor.testing;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.Uuid;

/**
 * A real Kafka broker in KRaft mode (broker and controller in one process), started from Kafka's
 * jars on the test class path in a JVM of its own, on free loopback ports. Besides its plain
 * listener it has a SASL_SSL one, TLS with the test certificate and SCRAM-SHA-512 for the user
 * {@link #USER}. It can be killed with SIGKILL and started again on the same ports and data.
 * Kafka's broker jars ({@code org.apache.kafka:kafka_2.13}) must be on the test class path: a
 * module that starts Kafka declares them in test scope.
 */
public final class KafkaServer implements AutoCloseable {
  /** The SCRAM user of the SASL_SSL listener, and its password. */
  public static final String USER = "conveyor";

  public static final String PASSWORD = "scram-pass-3";

  private final Path dir;
  private final Path config;
  private final int port;
  private final int securePort;
  private final String hostsAddress;
  private final int hostsPort;
  private final TestTls tls;
  private Process process;

  private KafkaServer(
      Path dir,
      Path config,
      int port,
      int securePort,
      String hostsAddress,
      int hostsPort,
      TestTls tls) {
    this.dir = dir;
    this.config = config;
    this.port = port;
    this.securePort = securePort;
    this.hostsAddress = hostsAddress;
    this.hostsPort = hostsPort;
    this.tls = tls;
  }

  public static KafkaServer start(Path dir) throws Exception {
    return start(dir, null);
  }

  /**
   * Starts a broker that test hosts ({@link Hosts}) reach too: besides its loopback listeners it
   * has a plain one on {@code address} (the hosts' gateway), advertised there, for {@link #uriAt}.
   */
  public static KafkaServer start(Path dir, String address) throws Exception {
    try {
      Class.forName("kafka.Kafka", false, KafkaServer.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new IllegalStateException(
          "no Kafka broker on the test class path: add org.apache.kafka:kafka_2.13 in test scope",
          e);
    }
    int port = Ports.free();
    int secure = Ports.free();
    int controller = Ports.free();
    int hosts = address == null ? 0 : Ports.free();
    String hostsListener = address == null ? "" : ",HOSTS://" + address + ":" + hosts;
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
                + controller
                + hostsListener,
            "advertised.listeners=PLAINTEXT://127.0.0.1:"
                + port
                + ",SASL_SSL://127.0.0.1:"
                + secure
                + hostsListener,
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT"
                + ",HOSTS:PLAINTEXT",
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
    KafkaServer server = new KafkaServer(dir, config, port, secure, address, hosts, tls);
    server.launch();
    return server;
  }

  private void launch() throws Exception {
    process = run(List.of("kafka.Kafka", config.toString()), dir.resolve("kafka.log"));
    if (!Ports.awaitListening(process, port, Duration.ofSeconds(60))) {
      TestProcesses.kill(process);
      throw new IllegalStateException("Kafka did not start; see " + dir.resolve("kafka.log"));
    }
  }

  private static Process run(List<String> mainAndArgs, Path log) throws IOException {
    return TestProcesses.start(
        TestProcesses.javaCommand(
            List.of("-Xmx512m"), mainAndArgs.get(0), mainAndArgs.subList(1, mainAndArgs.size())),
        log);
  }

  /** The plain listener, as Kafka's clients take it: {@code 127.0.0.1:PORT}. */
  public String bootstrap() {
    return "127.0.0.1:" + port;
  }

  /** A Kafka URI for this broker's plain listener, with query settings. */
  public String uri(String query) {
    return "kafka://127.0.0.1:" + port + (query.isEmpty() ? "" : "?" + query);
  }

  /**
   * A Kafka URI for the listener test hosts reach, on the address given to {@link #start(Path,
   * String)}.
   */
  public String uriAt(String query) {
    if (hostsAddress == null) {
      throw new IllegalStateException("this broker was started without a listener for hosts");
    }
    return "kafka://" + hostsAddress + ":" + hostsPort + (query.isEmpty() ? "" : "?" + query);
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

  /** Kills the broker with SIGKILL: no shutdown, no flush. */
  public void kill() throws InterruptedException {
    TestProcesses.kill(process);
  }

  /**
   * Freezes the broker (SIGSTOP) for {@code millis}, then lets it go on (SIGCONT): clients' calls
   * wait meanwhile, as they do for a broker that stalls.
   */
  public void freeze(long millis) throws IOException, InterruptedException {
    signal("STOP");
    try {
      Thread.sleep(millis);
    } finally {
      signal("CONT");
    }
  }

  private void signal(String name) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-" + name, Long.toString(process.pid())).start().waitFor();
  }

  /** Starts the broker again after {@link #kill()}, on the same ports and data. */
  public void launchAgain() throws Exception {
    launch();
  }

  @Override
  public void close() throws InterruptedException {
    TestProcesses.stop(process, Duration.ofSeconds(20));
  }

  /**
   * How many records each key has in {@code topic}, from its start to its end now: those of
   * committed transactions and those written without one ({@code committed}), or every record,
   * those of aborted transactions too. Empty when there is no such topic.
   */
  public java.util.Map<String, Integer> keys(String topic, boolean committed) {
    java.util.Map<String, Integer> out = new java.util.HashMap<>();
    for (java.util.Map.Entry<String, String> r : records(topic, committed)) {
      out.merge(r.getKey(), 1, Integer::sum);
    }
    return out;
  }

  /**
   * The records of {@code topic}, keys and values, from its start to its end now, read as {@link
   * #keys} reads them. Empty when there is no such topic.
   */
  public List<java.util.Map.Entry<String, String>> records(String topic, boolean committed) {
    List<java.util.Map.Entry<String, String>> out = new java.util.ArrayList<>();
    java.util.Map<String, Object> props = new java.util.HashMap<>();
    props.put("bootstrap.servers", bootstrap());
    props.put("isolation.level", committed ? "read_committed" : "read_uncommitted");
    props.put("key.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class);
    props.put("value.deserializer", org.apache.kafka.common.serialization.StringDeserializer.class);
    try (var c = new org.apache.kafka.clients.consumer.KafkaConsumer<String, String>(props)) {
      if (!c.listTopics().containsKey(topic)) {
        return out;
      }
      List<org.apache.kafka.common.TopicPartition> parts =
          c.partitionsFor(topic).stream()
              .map(i -> new org.apache.kafka.common.TopicPartition(topic, i.partition()))
              .toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      java.util.Map<org.apache.kafka.common.TopicPartition, Long> ends = c.endOffsets(parts);
      while (parts.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
        c.poll(Duration.ofMillis(500))
            .forEach(r -> out.add(java.util.Map.entry(r.key(), r.value())));
      }
    }
    return out;
  }
}
