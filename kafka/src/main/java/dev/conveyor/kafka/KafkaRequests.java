package dev.conveyor.kafka;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import java.util.Properties;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends requests to the topic with an idempotent producer ({@code acks=all}). Back-pressure is
 * Kafka's own: a send waits while the producer's buffer is full of unacknowledged records, up to
 * {@code max.block.ms}, and then fails; nothing is dropped silently.
 */
public final class KafkaRequests implements AutoCloseable {
  private final KafkaAddress address;
  private final KafkaProducer<String, byte[]> producer;

  public KafkaRequests(KafkaAddress address) {
    this.address = address;
    Topics.ensure(address);
    this.producer = new KafkaProducer<>(producerProperties(address));
  }

  static Properties producerProperties(KafkaAddress address) {
    Properties p = address.properties();
    p.putIfAbsent("enable.idempotence", "true");
    p.putIfAbsent("acks", "all");
    p.putIfAbsent("linger.ms", "5");
    p.putIfAbsent("max.request.size", Integer.toString(21 << 20));
    p.putIfAbsent("max.block.ms", "60000");
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    return p;
  }

  /** Sends a request; the future completes when Kafka has it. */
  public Future<RecordMetadata> send(ImageRequest request) {
    try {
      return producer.send(Records.toRecord(address.topic(), request));
    } catch (org.apache.kafka.common.KafkaException e) {
      throw new ConveyorException(
          ErrorCode.BUSY, "Kafka did not take the request: " + e.getMessage(), e);
    }
  }

  /** Waits until every request sent so far is acknowledged. */
  public void flush() {
    producer.flush();
  }

  @Override
  public void close() {
    producer.close();
  }
}
