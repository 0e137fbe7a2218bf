package dev.conveyor.kafka;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.transport.ResultSink;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes results to the results topic, keyed by request id, as the JSON {@code classify} prints
 * (with the worker's host name), and to a request's {@code reply-to} topic when it names one that
 * exists in the reply namespace ({@code reply-prefix}). A request whose {@code reply-to} lies
 * outside the namespace, or names no existing topic, gets a {@code BAD_REQUEST} result, and nothing
 * is written to the topic it named: a producer neither makes the broker create topics nor holds the
 * worker while the client waits for a topic that will never come. Topics are looked up with the
 * admin client, which creates none, and remembered once seen. Returns only once Kafka has
 * acknowledged every write to the results topic; a reply that cannot be written is logged and fails
 * no other request of the batch.
 */
public final class KafkaResultSink implements ResultSink {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaResultSink.class);

  /** Reply topics remembered as existing, at most this many. */
  private static final int KNOWN_TOPICS = 10_000;

  private static final long LOOKUP_SECONDS = 5;

  private final KafkaConfig address;
  private final KafkaProducer<String, byte[]> producer;
  private final Set<String> known = ConcurrentHashMap.newKeySet();
  private Admin admin;

  public KafkaResultSink(KafkaConfig address) {
    this(address, new KafkaProducer<>(KafkaRequests.producerProperties(address)));
  }

  /** A sink writing with {@code producer}, a transactional one say; closing it closes that too. */
  KafkaResultSink(KafkaConfig address, KafkaProducer<String, byte[]> producer) {
    this.address = address;
    this.producer = producer;
  }

  @Override
  public void deliver(List<ImageRequest> requests, List<ClassifyResult> results) throws Exception {
    Sends sends = send(requests, results);
    for (Future<?> f : sends.results()) {
      f.get();
    }
    for (Future<?> f : sends.replies()) {
      try {
        f.get();
      } catch (ExecutionException e) {
        LOG.warn("a reply topic could not be written: {}", e.getCause().toString());
      }
    }
  }

  /** The writes of a batch's results and of its replies, not waited for. */
  record Sends(List<Future<?>> results, List<Future<?>> replies) {}

  /**
   * Hands the results, and their replies, to the producer without waiting for Kafka: inside a
   * transaction, its commit waits for them all.
   */
  Sends send(List<ImageRequest> requests, List<ClassifyResult> results) {
    Set<String> existing = existingReplyTopics(requests);
    List<Future<?>> sent = new ArrayList<>(results.size());
    List<Future<?>> replySends = new ArrayList<>();
    for (int i = 0; i < results.size(); i++) {
      ClassifyResult r = results.get(i);
      String replyTo = requests.get(i).replyTo();
      boolean replies = replyTo != null && !replyTo.isBlank();
      String refused = null;
      if (replies && !address.replyAllowed(replyTo)) {
        refused = "outside this worker's reply namespace (reply-prefix)";
      } else if (replies && !existing.contains(replyTo)) {
        refused = "not an existing topic";
      }
      if (refused != null) {
        r =
            ClassifyResult.error(
                requests.get(i),
                ErrorCode.BAD_REQUEST,
                "the request's reply-to is " + refused,
                r.host(),
                r.latencyMs() == null ? 0 : r.latencyMs());
        replies = false;
      }
      byte[] json = Records.utf8(Json.write(r));
      sent.add(producer.send(new ProducerRecord<>(address.results(), r.id(), json)));
      if (replies) {
        replySends.add(producer.send(new ProducerRecord<>(replyTo, r.id(), json)));
      }
    }
    return new Sends(sent, replySends);
  }

  /** The reply topics of these requests that are in the namespace and exist. */
  private Set<String> existingReplyTopics(List<ImageRequest> requests) {
    Set<String> asked = new HashSet<>();
    for (ImageRequest r : requests) {
      String to = r.replyTo();
      if (to != null && !to.isBlank() && address.replyAllowed(to) && !known.contains(to)) {
        asked.add(to);
      }
    }
    if (!asked.isEmpty()) {
      if (known.size() > KNOWN_TOPICS) {
        known.clear();
      }
      Map<String, KafkaFuture<TopicDescription>> found =
          admin().describeTopics(asked).topicNameValues();
      for (Map.Entry<String, KafkaFuture<TopicDescription>> e : found.entrySet()) {
        try {
          e.getValue().get(LOOKUP_SECONDS, TimeUnit.SECONDS);
          known.add(e.getKey());
        } catch (ExecutionException | TimeoutException missing) {
          // no such topic, or none to be found now: the request is answered without it
        } catch (InterruptedException stop) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    Set<String> existing = new HashSet<>();
    for (ImageRequest r : requests) {
      if (r.replyTo() != null && known.contains(r.replyTo())) {
        existing.add(r.replyTo());
      }
    }
    return existing;
  }

  private synchronized Admin admin() {
    if (admin == null) {
      admin = Admin.create(address.properties());
    }
    return admin;
  }

  @Override
  public void close() {
    producer.close();
    synchronized (this) {
      if (admin != null) {
        admin.close();
      }
    }
  }
}
