package dev.conveyor.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Consumers that read what Conveyor wrote to a test's Kafka broker. */
final class TestConsumers {
  private TestConsumers() {}

  /** A consumer of every record of {@code topic} from its start, as tests read what came out. */
  static KafkaConsumer<String, byte[]> readFromStart(KafkaConfig address, String topic) {
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
}
