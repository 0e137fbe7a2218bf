package dev.conveyor.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.testing.KafkaServer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka broker killed with SIGKILL mid-run and started again: the worker and the producer that
 * were using it reconnect by themselves, and every request sent, before and after, gets its result.
 */
@Timeout(240)
class KafkaBrokerRestartIT {
  private static final String[] COLOURS = {"cmyk-red.jpg", "rgb16-green.png", "palette-blue.png"};
  private static final String[] EXPECTED = {"red", "green", "blue"};

  @TempDir Path dir;

  @Test
  void aBrokerKilledAndRestartedMidRunLosesNothing() throws Exception {
    try (KafkaServer broker = KafkaServer.start(dir)) {
      KafkaConfig address =
          KafkaConfig.parse(
              broker.uri(
                  "topic=images-r&results=results-r&group=g-r&kafka.session.timeout.ms=6000"
                      + "&kafka.heartbeat.interval.ms=1000"));
      Topics.ensure(address);
      MeanColourClassifier model = new MeanColourClassifier(32, 32).slow(100);
      Map<String, String> expected = new HashMap<>();
      try (KafkaTransport transport = new KafkaTransport(address, 4);
          KafkaResultSink sink = new KafkaResultSink(address);
          var worker = TestWorkers.colour(transport, sink, model, 4);
          KafkaRequests requests = new KafkaRequests(address)) {
        send(requests, 30, expected);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (model.batchSizes().size() < 2) {
          assertThat(System.nanoTime()).as("the worker is under way").isLessThan(deadline);
          Thread.sleep(10);
        }
        broker.kill(); // mid-run: requests are queued and in the worker
        int beforeKill = model.batchSizes().size();
        broker.launchAgain();
        Map<String, String> before = Map.copyOf(expected);
        // the same producer, after the restart
        send(requests, 30, expected);
        Map<String, Integer> perId = resultsPerId(address, expected, Duration.ofSeconds(150));
        assertThat(perId.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
        int duplicates = perId.values().stream().mapToInt(n -> n - 1).sum();
        System.out.printf(
            "Kafka broker SIGKILL: 60 requests, %d batches before the kill, %d duplicates%n",
            beforeKill, duplicates);
        // what the worker held when the broker went could not be committed, and may come twice;
        // nothing sent after the restart does
        perId.forEach(
            (id, n) ->
                assertThat(n)
                    .as(
                        "results for %s, sent %s the restart",
                        id, before.containsKey(id) ? "before" : "after")
                    .isLessThanOrEqualTo(before.containsKey(id) ? 2 : 1));
        assertThat(model.batchSizes().size()).isGreaterThan(beforeKill);
      }
    }
  }

  private static void send(KafkaRequests requests, int n, Map<String, String> expected)
      throws Exception {
    for (int i = 0; i < n; i++) {
      ImageRequest r =
          ImageRequest.ofBytes(COLOURS[i % 3], TestImages.bytes(COLOURS[i % 3]), "image/png");
      requests.send(r, Duration.ofSeconds(60));
      expected.put(r.id(), EXPECTED[i % 3]);
    }
    assertThat(requests.flush(Duration.ofSeconds(60))).as("records Kafka did not take").isEmpty();
  }

  /** Results per id, each checked for its colour, read until every id has one. */
  private static Map<String, Integer> resultsPerId(
      KafkaConfig address, Map<String, String> expected, Duration timeout) {
    Map<String, Integer> perId = new HashMap<>();
    try (KafkaConsumer<String, byte[]> c =
        TestConsumers.readFromStart(address, address.results())) {
      long deadline = System.nanoTime() + timeout.toNanos();
      long settle = Long.MAX_VALUE;
      while (System.nanoTime() < Math.min(deadline, settle)) {
        for (var r : c.poll(Duration.ofMillis(200))) {
          ClassifyResult result =
              Json.read(new String(r.value(), StandardCharsets.UTF_8), ClassifyResult.class);
          assertThat(result.isOk()).as(result.toString()).isTrue();
          assertThat(result.top().label()).isEqualTo(expected.get(result.id()));
          perId.merge(result.id(), 1, Integer::sum);
        }
        if (settle == Long.MAX_VALUE && perId.keySet().containsAll(expected.keySet())) {
          settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(2); // duplicates still on their way
        }
      }
    }
    return perId;
  }
}
