package dev.conveyor.kafka;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Requests;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends requests to the topic with an idempotent producer ({@code acks=all}). Back-pressure is
 * Kafka's own: a send waits while the producer's buffer is full of unacknowledged records, up to
 * the send's {@code maxWait}. Every record Kafka does not acknowledge (the broker is down, the wait
 * ran out) is reported by {@link #flush}; nothing is dropped silently. The topics are created, when
 * missing, on the first send.
 */
public final class KafkaRequests implements Requests {
  private final KafkaConfig address;
  private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();
  private final boolean topicsExist;
  private KafkaProducer<String, byte[]> producer;

  public KafkaRequests(KafkaConfig address) {
    this(address, false);
  }

  /**
   * @param topicsExist whether the caller has already made sure the topics exist
   */
  KafkaRequests(KafkaConfig address, boolean topicsExist) {
    this.address = address;
    this.topicsExist = topicsExist;
  }

  static Properties producerProperties(KafkaConfig address) {
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

  /**
   * Hands a request to the producer; Kafka's acknowledgement comes later, and a record it refuses
   * is reported by {@link #flush}.
   *
   * @throws ConveyorException {@code UNAVAILABLE} when Kafka cannot be reached to create the topics
   */
  @Override
  public void send(ImageRequest request, Duration maxWait) {
    if (producer == null) {
      open(maxWait);
    }
    try {
      producer.send(
          Records.toRecord(address.topic(), request),
          (metadata, e) -> {
            if (e != null) {
              failures.add(
                  new Failure(
                      request,
                      new ConveyorException(
                          ErrorCode.UNAVAILABLE, "Kafka did not take it: " + e.getMessage(), e)));
            }
          });
    } catch (KafkaException e) {
      failures.add(
          new Failure(
              request,
              new ConveyorException(
                  ErrorCode.BUSY, "Kafka did not take it: " + e.getMessage(), e)));
    }
  }

  /**
   * Creates the topics when missing, and a producer whose sends wait at most {@code maxWait} for
   * room; a record Kafka has not acknowledged within its delivery timeout ({@code
   * kafka.delivery.timeout.ms}, two minutes by default) fails and is reported.
   */
  private void open(Duration maxWait) {
    if (!topicsExist) {
      Topics.ensure(address, maxWait);
    }
    Properties p = producerProperties(address);
    p.put("max.block.ms", Long.toString(Math.max(1000, maxWait.toMillis())));
    producer = new KafkaProducer<>(p);
  }

  /** Waits until every record sent so far is acknowledged or has failed; returns the failures. */
  @Override
  public List<Failure> flush(Duration maxWait) {
    if (producer != null) {
      producer.flush();
    }
    return failures();
  }

  /** The records that failed so far, without waiting for those still in flight. */
  List<Failure> failures() {
    List<Failure> failed = new ArrayList<>();
    Failure f;
    while ((f = failures.poll()) != null) {
      failed.add(f);
    }
    return failed;
  }

  @Override
  public void close() {
    if (producer != null) {
      producer.close();
    }
  }
}
