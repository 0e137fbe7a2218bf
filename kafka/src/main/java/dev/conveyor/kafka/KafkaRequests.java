package dev.conveyor.kafka;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Requests;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Sends requests to the topic with an idempotent producer ({@code acks=all}). Back-pressure is
 * Kafka's own: a send waits while the producer's buffer is full of unacknowledged records, up to
 * the send's {@code maxWait}. Every record Kafka does not acknowledge (the broker is down, the wait
 * ran out) is reported by {@link #flush}; nothing is dropped silently. A record still
 * unacknowledged when a flush's {@code maxWait} runs out (Kafka cut off by the network) is reported
 * {@code TIMEOUT}: it may still arrive, as the producer keeps trying for its delivery timeout. The
 * topics are created, when missing, on the first send.
 */
public final class KafkaRequests implements Requests {
  private final KafkaConfig address;
  private final ConcurrentLinkedQueue<Failure> failures = new ConcurrentLinkedQueue<>();

  /** The records sent and not yet acknowledged or failed, each reported once. */
  private final Map<ImageRequest, CompletableFuture<Void>> inFlight = new ConcurrentHashMap<>();

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
      CompletableFuture<Void> sent = new CompletableFuture<>();
      inFlight.put(request, sent);
      producer.send(
          Records.toRecord(address.topic(), request),
          (metadata, e) -> {
            // reported once: by the flush that gave up on it, or here
            if (inFlight.remove(request) != null && e != null) {
              failures.add(
                  new Failure(
                      request,
                      new ConveyorException(
                          ErrorCode.UNAVAILABLE, "Kafka did not take it: " + e.getMessage(), e)));
            }
            sent.complete(null);
          });
    } catch (KafkaException e) {
      inFlight.remove(request);
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

  /**
   * Waits up to {@code maxWait} until every record sent so far is acknowledged or has failed;
   * returns the failures, and the records still unacknowledged then as {@code TIMEOUT}.
   */
  @Override
  public List<Failure> flush(Duration maxWait) throws InterruptedException {
    long deadline = System.nanoTime() + maxWait.toNanos();
    for (Map.Entry<ImageRequest, CompletableFuture<Void>> e : List.copyOf(inFlight.entrySet())) {
      try {
        e.getValue().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (TimeoutException late) {
        if (inFlight.remove(e.getKey()) != null) {
          failures.add(
              new Failure(
                  e.getKey(),
                  new ConveyorException(
                      ErrorCode.TIMEOUT,
                      "Kafka did not acknowledge it within "
                          + maxWait.toSeconds()
                          + " s; it may still arrive")));
        }
      } catch (ExecutionException failed) {
        // reported by the send's callback
      }
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
