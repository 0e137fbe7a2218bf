package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.testing.Await;
import dev.conveyor.testing.Hosts;
import dev.conveyor.testing.Ports;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * The broker's host cut off from everyone for 20 s, on each broker: two workers, a producer and a
 * {@code conveyor serve} each on a host of its own ({@link Hosts}), all of them cut off from the
 * broker at once and then healed. HTTP callers on the server's host must be answered 503 or 504
 * with {@code Retry-After} meanwhile, never left hanging; the producer's every call must end within
 * its timeout, refused; everything the broker acknowledged must be answered after the heal; and the
 * server, the producer and the workers must come back by themselves. The brokers' runs go at once:
 * each mostly waits out its cut.
 */
@Timeout(300)
class BrokerHostCutIT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();

  /** The most seconds a producer's send, and then its flush, may wait. */
  private static final int SEND_WAIT = 5;

  @TempDir Path dir;
  private Hosts hosts;
  private HostBrokers broker;

  /** Where the hosts' processes log: kept after the run, under target/host-logs. */
  private Path logs;

  @BeforeEach
  void logs(TestInfo test) throws Exception {
    logs = Hosts.logFolder(getClass().getSimpleName(), test.getDisplayName());
  }

  @AfterEach
  void stop() throws Exception {
    if (hosts != null) {
      hosts.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  @Execution(ExecutionMode.CONCURRENT)
  void aRedisStreamHostCutOff() throws Exception {
    hosts = Hosts.create(4);
    cutOff(HostBrokers.redis(dir, hosts, "stream"));
  }

  @Test
  @Execution(ExecutionMode.CONCURRENT)
  void aRedisListHostCutOff() throws Exception {
    hosts = Hosts.create(4);
    cutOff(HostBrokers.redis(dir, hosts, "list"));
  }

  @Test
  @Execution(ExecutionMode.CONCURRENT)
  void aPostgresHostCutOff() throws Exception {
    hosts = Hosts.create(4);
    cutOff(HostBrokers.postgres(hosts));
  }

  @Test
  @Execution(ExecutionMode.CONCURRENT)
  void aKafkaHostCutOff() throws Exception {
    hosts = Hosts.create(4);
    cutOff(HostBrokers.kafka(dir, hosts));
  }

  private void cutOff(HostBrokers broker) throws Exception {
    this.broker = broker;
    String uri = broker.workerUri();
    for (int i = 1; i <= 2; i++) {
      Hosts.Host h = hosts.host(i);
      h.start(SleepingWorker.command(uri, 200, 8), logs.resolve(h.name() + ".log"));
    }
    Path produced = logs.resolve("producer.log");
    hosts.host(3).start(PacedProducer.command(uri, 20, SEND_WAIT), produced);
    Hosts.Host web = hosts.host(4);
    int port = Ports.free();
    web.start(
        List.of(
            ROOT.resolve("conveyor").toString(),
            "serve",
            "--transport",
            uri,
            "--port",
            Integer.toString(port),
            "--timeout",
            "10"),
        logs.resolve("serve.log"));
    Path image = Files.write(dir.resolve("shirt.png"), FashionPngs.first(1).get(0));
    Await.until(
        () -> curl(web, port, "/v2/health/ready", null).status() == 200,
        Duration.ofSeconds(90),
        "serve ready");
    Await.until(
        () -> curl(web, port, "/predict", image).status() == 200,
        Duration.ofSeconds(60),
        "serve answering through the broker");
    Await.until(() -> acked(produced).size() >= 20, Duration.ofSeconds(60), "the producer sending");

    for (Hosts.Host h : hosts.all()) {
      h.cut();
    }
    long cut = System.nanoTime();
    List<Call> during = new ArrayList<>();
    while (System.nanoTime() - cut < 17_000_000_000L) {
      during.add(curl(web, port, "/predict", image));
    }
    Thread.sleep(Math.max(0, 20_000 - (System.nanoTime() - cut) / 1_000_000));
    for (Hosts.Host h : hosts.all()) {
      h.heal();
    }
    long healed = System.nanoTime();
    int ackedAtHeal = acked(produced).size();
    Await.until(
        () -> curl(web, port, "/predict", image).status() == 200,
        Duration.ofSeconds(60),
        "serve answering again after the heal");
    double serveBack = (System.nanoTime() - healed) / 1e9;
    Await.until(
        () -> acked(produced).size() > ackedAtHeal,
        Duration.ofSeconds(60),
        "the producer sending again after the heal");
    double producerBack = (System.nanoTime() - healed) / 1e9;

    List<String> lines = Files.readAllLines(produced);
    List<String> acked = acked(produced);
    long failed = lines.stream().filter(l -> l.startsWith("failed ")).count();
    long slowest =
        lines.stream()
            .filter(l -> l.startsWith("acked ") || l.startsWith("failed "))
            .mapToLong(l -> Long.parseLong(l.split(" ")[2]))
            .max()
            .orElse(0);
    Await.until(
        () -> broker.answered().keySet().containsAll(acked),
        Duration.ofSeconds(90),
        "every acknowledged request answered");
    String statuses =
        during.stream()
            .map(c -> c.status() + (c.retryAfter() != null ? "+Retry-After" : ""))
            .distinct()
            .sorted()
            .toList()
            .toString();
    double longest = during.stream().mapToDouble(Call::seconds).max().orElse(0);
    System.out.printf(
        Locale.ROOT,
        "hosts, %s, the broker's host cut off 20 s: producer %d acknowledged, all answered, %d"
            + " refused during the cut, longest call %.1f s (send and flush %d s each), back %.1f"
            + " s after the heal; HTTP during the cut: %d calls, %s, longest %.1f s; serve back"
            + " %.1f s after the heal%n",
        broker.name(),
        acked.size(),
        failed,
        slowest / 1000.0,
        SEND_WAIT,
        producerBack,
        during.size(),
        statuses,
        longest,
        serveBack);
    for (int i = 1; i <= 2; i++) {
      assertThat(Files.readString(logs.resolve("host" + i + ".log")))
          .as("worker %d saying what failed", i)
          .containsPattern(" (WARN|ERROR) ");
    }
    assertThat(failed).as("producer calls refused during the cut").isPositive();
    // a call waits for room or acknowledgement as long as it is told, or for one command as long
    // as the broker's client lets it
    long bound = 1000L * (2 * SEND_WAIT + broker.networkTimeoutSeconds()) + 5000;
    assertThat(slowest).as("the producer's longest call, ms").isLessThan(bound);
    assertThat(during).as("HTTP calls during the cut").isNotEmpty();
    for (Call c : during) {
      assertThat(c.status()).as("an HTTP call during the cut").isIn(503, 504);
      assertThat(c.retryAfter()).as("its Retry-After").isNotNull();
      assertThat(c.seconds()).as("its time, s").isLessThan(15);
    }
  }

  /** The ids the producer's log says the broker acknowledged. */
  private static List<String> acked(Path log) throws IOException {
    return Files.readAllLines(log).stream()
        .filter(l -> l.startsWith("acked "))
        .map(l -> l.split(" ")[1])
        .toList();
  }

  /** An HTTP call's status, its {@code Retry-After} (or null), and how long it took. */
  private record Call(int status, String retryAfter, double seconds) {}

  /**
   * Calls the server on {@code host}'s own loopback with Debian's {@code curl} run on that host:
   * GET {@code path}, or a form upload of {@code image} when given. Status 0 when nothing answered.
   */
  private static Call curl(Hosts.Host host, int port, String path, Path image) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                "ip",
                "netns",
                "exec",
                host.namespace(),
                "curl",
                "-s",
                "-o",
                "/dev/null",
                "-D",
                "-",
                "-w",
                "\\n%{http_code} %{time_total}\\n",
                "--max-time",
                "60"));
    if (image != null) {
      command.addAll(List.of("-F", "image=@" + image));
    }
    command.add("http://127.0.0.1:" + port + path);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(70, TimeUnit.SECONDS)).as("curl ended").isTrue();
    List<String> lines = out.lines().filter(l -> !l.isBlank()).toList();
    String[] last = lines.get(lines.size() - 1).split(" ");
    String retryAfter =
        lines.stream()
            .filter(l -> l.toLowerCase(Locale.ROOT).startsWith("retry-after:"))
            .map(l -> l.substring(l.indexOf(':') + 1).strip())
            .findFirst()
            .orElse(null);
    return new Call(Integer.parseInt(last[0]), retryAfter, Double.parseDouble(last[1]));
  }
}
