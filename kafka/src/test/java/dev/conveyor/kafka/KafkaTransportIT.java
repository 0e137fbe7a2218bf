package dev.conveyor.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Kafka transport against a real KRaft broker started for this class. */
class KafkaTransportIT {
  private static final String[] COLOURS = {"cmyk-red.jpg", "rgb16-green.png", "palette-blue.png"};
  private static final String[] EXPECTED = {"red", "green", "blue"};

  @TempDir static Path dir;
  static KafkaBroker broker;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeAll
  static void startBroker() throws Exception {
    broker = KafkaBroker.start(dir);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    broker.close();
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private <T extends AutoCloseable> T keep(T c) {
    open.add(c);
    return c;
  }

  private void worker(KafkaAddress address, MeanColourClassifier model) {
    keep(
        TestWorkers.colour(
            keep(new KafkaTransport(address, 4)), keep(new KafkaResultSink(address)), model, 4));
  }

  private static List<String> produce(KafkaAddress address, int n) {
    List<String> ids = new ArrayList<>();
    try (KafkaRequests requests = new KafkaRequests(address)) {
      for (int i = 0; i < n; i++) {
        ImageRequest r =
            ImageRequest.ofBytes(COLOURS[i % 3], TestImages.bytes(COLOURS[i % 3]), "image/png");
        requests.send(r);
        ids.add(r.id());
      }
      requests.flush();
    }
    return ids;
  }

  /**
   * Every record of a topic, read from the start, until {@code expected} arrived or time ran out.
   */
  private static List<ConsumerRecord<String, byte[]>> readAll(
      KafkaAddress address, String topic, int expected, Duration timeout) {
    Properties p = address.properties();
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p)) {
      List<TopicPartition> parts = new ArrayList<>();
      for (PartitionInfo info : c.partitionsFor(topic)) {
        parts.add(new TopicPartition(topic, info.partition()));
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  @Test
  void twoWorkersShareAFourPartitionTopicAndClassifyEveryRequestOnce() throws Exception {
    KafkaAddress address =
        KafkaAddress.parse(broker.uri("topic=images-a&results=results-a&group=g-a"));
    MeanColourClassifier a = new MeanColourClassifier(32, 32);
    MeanColourClassifier b = new MeanColourClassifier(32, 32);
    worker(address, a);
    worker(address, b);
    List<String> ids = produce(address, 60);
    List<ConsumerRecord<String, byte[]>> results =
        readAll(address, address.results(), 60, Duration.ofSeconds(60));
    Map<String, Integer> perId = new HashMap<>();
    for (var r : results) {
      perId.merge(r.key(), 1, Integer::sum);
      ClassifyResult result =
          Json.read(new String(r.value(), StandardCharsets.UTF_8), ClassifyResult.class);
      int i = ids.indexOf(result.id());
      assertThat(result.top().label()).isEqualTo(EXPECTED[i % 3]);
      assertThat(result.host()).isNotBlank();
    }
    assertThat(perId).hasSize(60).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    try (var admin = org.apache.kafka.clients.admin.Admin.create(address.properties())) {
      assertThat(
              admin
                  .describeTopics(List.of(address.topic()))
                  .allTopicNames()
                  .get(30, TimeUnit.SECONDS)
                  .get(address.topic())
                  .partitions())
          .hasSize(4);
    }
    assertThat(a.batchSizes()).as("both workers took part").isNotEmpty();
    assertThat(b.batchSizes()).isNotEmpty();
  }

  @Test
  void aRecordThatFailsEveryTimeEndsInTheDeadLetterTopicWithItsError() throws Exception {
    KafkaAddress address =
        KafkaAddress.parse(
            broker.uri("topic=images-p&results=results-p&group=g-p&max-deliveries=3"));
    MeanColourClassifier failing = new MeanColourClassifier(32, 32, call -> true);
    worker(address, failing);
    List<String> ids = produce(address, 1);
    List<ConsumerRecord<String, byte[]>> dead =
        readAll(address, address.deadLetter(), 1, Duration.ofSeconds(60));
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).key()).isEqualTo(ids.get(0));
    assertThat(Records.header(dead.get(0).headers(), Records.ERROR))
        .contains("3 deliveries")
        .contains("the model failed");
    assertThat(dead.get(0).value()).isEqualTo(TestImages.bytes(COLOURS[0]));
    assertThat(failing.batchSizes()).hasSize(3);
  }
}
