package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Requests;
import dev.conveyor.testing.Await;
import dev.conveyor.testing.Hosts;
import dev.conveyor.testing.TestProcesses;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;

/**
 * Workers on hosts of their own ({@link Hosts}: network namespaces on a bridge), the broker on the
 * machine's own namespace, and a host cut off from the network mid-run, then healed, on each
 * broker. What is measured: how long until the cut-off worker's requests are taken over, how long
 * after the heal until it takes new work again, and that no request is lost and none answered twice
 * beyond what the cut-off worker held.
 */
@Timeout(300)
class HostFaultsIT {
  // the four brokers' runs at once: each mostly waits on a host cut off for 30 s
  /**
   * How long host 1 is cut off: 30 s, or {@code -Dhosts.cut-seconds=N} for a longer run by hand.
   */
  private static final int CUT_SECONDS = Integer.getInteger("hosts.cut-seconds", 30);

  @TempDir Path dir;
  private Hosts hosts;
  private final List<Process> workers = new ArrayList<>();
  private HostBrokers broker;

  /** Where the hosts' processes log: kept after the run, under target/host-logs. */
  private Path logs;

  @BeforeEach
  void logs(TestInfo test) throws Exception {
    logs = Hosts.logFolder(getClass().getSimpleName(), test.getDisplayName());
  }

  @AfterEach
  void stop() throws Exception {
    for (Process p : workers) {
      TestProcesses.kill(p);
    }
    if (hosts != null) {
      hosts.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  @Test
  @Execution(ExecutionMode.CONCURRENT)
  void aRedisStreamWorkerCutOffIsTakenOverAndWorksAgainAfterTheHeal() throws Exception {
    hosts = Hosts.create(2);
    workerCutOff(HostBrokers.redis(dir, hosts, "stream"));
  }

  @Test
  @Execution(ExecutionMode.CONCURRENT)
  void aRedisListWorkerCutOffIsTakenOverAndWorksAgainAfterTheHeal() throws Exception {
    hosts = Hosts.create(2);
    workerCutOff(HostBrokers.redis(dir, hosts, "list"));
  }

  @Test
  @Execution(ExecutionMode.CONCURRENT)
  void aPostgresQueueWorkerCutOffIsTakenOverAndWorksAgainAfterTheHeal() throws Exception {
    hosts = Hosts.create(2);
    workerCutOff(HostBrokers.postgres(hosts));
  }

  @Test
  @Execution(ExecutionMode.CONCURRENT)
  void aKafkaWorkerCutOffIsTakenOverAndWorksAgainAfterTheHeal() throws Exception {
    hosts = Hosts.create(2);
    workerCutOff(HostBrokers.kafka(dir, hosts));
  }

  /**
   * Two workers whose model sleeps 200 ms a batch of 8 (40 requests/s each), on hosts 1 and 2, and
   * requests at 45 a second: both are needed. Host 1 is cut off for 30 s while it holds requests,
   * then healed. Its requests must be taken over, every request answered, a request answered twice
   * only if host 1 held it at the cut, and host 1 must take new work soon after the heal.
   */
  private void workerCutOff(HostBrokers broker) throws Exception {
    this.broker = broker;
    Hosts.Host cutOff = hosts.host(1);
    for (Hosts.Host h : hosts.all()) {
      workers.add(
          h.start(
              SleepingWorker.command(broker.workerUri(), 200, 8), logs.resolve(h.name() + ".log")));
    }
    List<byte[]> images = FashionPngs.first(8);
    List<String> sent = java.util.Collections.synchronizedList(new ArrayList<>());
    java.util.concurrent.atomic.AtomicBoolean sending =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    try (Requests producer = Brokers.open(broker.producerUri()).producer()) {
      Thread load =
          new Thread(
              () -> {
                long start = System.nanoTime();
                try {
                  for (int i = 0; sending.get(); i++) {
                    ImageRequest r = ImageRequest.ofBytes("r" + i, images.get(i % 8), null);
                    producer.send(r, Duration.ofSeconds(30));
                    sent.add(r.id());
                    long next = start + i * 1_000_000_000L / 45;
                    Thread.sleep(Math.max(0, (next - System.nanoTime()) / 1_000_000));
                  }
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              "producer");
      load.start();
      Await.until(() -> broker.held(cutOff) > 0, Duration.ofSeconds(60), "host 1 holding requests");
      cutOff.cut();
      long cut = System.nanoTime();
      int sentAtCut = sent.size();
      // a read that reached the broker just before the cut is counted a moment later
      int held = 0;
      while (System.nanoTime() - cut < 2_000_000_000L) {
        held = Math.max(held, broker.held(cutOff));
        Thread.sleep(50);
      }
      Await.until(
          () -> broker.takenFrom(cutOff), Duration.ofSeconds(30), "its requests taken over");
      double takeover = (System.nanoTime() - cut) / 1e9;
      Thread.sleep(Math.max(0, CUT_SECONDS * 1000L - (System.nanoTime() - cut) / 1_000_000));
      cutOff.heal();
      long healed = System.nanoTime();
      // new work: a request sent after the cut, which host 1 cannot have held, answered by it
      Await.until(
          () -> answeredAfter(broker.answered(), sent, sentAtCut, cutOff.name()),
          Duration.ofSeconds(30),
          "host 1 taking new work after the heal");
      double back = (System.nanoTime() - healed) / 1e9;
      sending.set(false);
      load.join();
      assertThat(producer.flush(Duration.ofSeconds(30))).isEmpty();
      List<String> all = List.copyOf(sent);
      Await.until(
          () -> broker.answered().keySet().containsAll(all),
          Duration.ofSeconds(90),
          "every request answered");
      Map<String, List<String>> answered = broker.answered();
      int duplicates = answered.values().stream().mapToInt(h -> h.size() - 1).sum();
      System.out.printf(
          "hosts, %s, a worker host cut off %d s: %d requests, %d held by it at the cut, taken"
              + " over in %.1f s (%s), 0 lost, %d duplicates, new work taken %.1f s after the"
              + " heal%n",
          broker.name(),
          CUT_SECONDS,
          all.size(),
          held,
          takeover,
          broker.takeover(),
          duplicates,
          back);
      assertThat(answered.keySet()).containsAll(all);
      assertThat(duplicates).as("requests answered twice").isLessThanOrEqualTo(held);
      if (!broker.name().equals("Kafka")) {
        // a request is answered twice only by the host that held it and the one that took it
        // over; on Kafka the rebalances (after the cut, and when host 1 joins again) hand
        // partitions over with what was read and not committed, from any member
        answered.forEach(
            (id, by) -> {
              if (by.size() > 1) {
                assertThat(by).as("the hosts that answered %s", id).contains(cutOff.name());
              }
            });
      }
      assertThat(back).as("seconds until the healed worker took new work").isLessThan(20);
    }
  }

  /** Whether {@code host} answered a request sent from index {@code from} on. */
  private static boolean answeredAfter(
      Map<String, List<String>> answered, List<String> sent, int from, String host) {
    List<String> later;
    synchronized (sent) {
      later = List.copyOf(sent.subList(from, sent.size()));
    }
    return later.stream().anyMatch(id -> answered.getOrDefault(id, List.of()).contains(host));
  }
}
