package dev.conveyor.kafka;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.PositionStore;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Kafka worker's batches settled exactly once in a results store that keeps offsets ({@code
 * results-to postgresql://…} with {@code delivery=exactly-once}): each batch's results and its
 * partitions' next offsets in one transaction of the store. A partition assigned to this worker is
 * paused until the store has said where to resume it (the store's offset, else Kafka's committed
 * one, which is never ahead of the store's). Offsets are committed to Kafka too, after the store,
 * only so that the group's lag shows in Kafka's tools. The store holds the results; the results
 * topic and reply topics, which callers wait on, get each one after it is stored, at most once (a
 * worker killed in between leaves it in the store only).
 */
final class KafkaStored implements KafkaOnce.Settle {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaStored.class);

  private final PositionStore store;
  private final String group;
  private final String topic;
  private final Set<TopicPartition> unplaced = new HashSet<>();
  private final ConcurrentLinkedQueue<Map<TopicPartition, OffsetAndMetadata>> stored =
      new ConcurrentLinkedQueue<>();
  private final KafkaConfig address;
  private KafkaResultSink replies;
  private boolean warned;

  KafkaStored(PositionStore store, KafkaConfig address) {
    this.store = store;
    this.address = address;
    this.group = address.group();
    this.topic = address.topic();
  }

  @Override
  public Map<TopicPartition, Long> settle(
      List<ImageRequest> requests,
      List<ClassifyResult> results,
      List<ProducerRecord<String, byte[]>> copies,
      Map<TopicPartition, Long> from,
      Map<TopicPartition, Long> to,
      ConsumerGroupMetadata readIn)
      throws Exception {
    Map<Integer, Long> again =
        store.storeAt(group, topic, partitions(from), partitions(to), requests, results);
    if (!again.isEmpty()) {
      LOG.info(
          "a batch of {} requests was answered by another worker already (offsets {}); reading"
              + " on from the stored offsets {}",
          results.size(),
          from,
          again);
      Map<TopicPartition, Long> seek = new HashMap<>();
      again.forEach((p, offset) -> seek.put(new TopicPartition(topic, p), offset));
      return seek;
    }
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    to.forEach((tp, offset) -> commit.put(tp, new OffsetAndMetadata(offset)));
    stored.add(commit);
    reply(requests, results);
    return Map.of();
  }

  /** Tells the callers waiting for these results: after the store, at most once. */
  private void reply(List<ImageRequest> requests, List<ClassifyResult> results) {
    try {
      synchronized (this) {
        if (replies == null) {
          replies = new KafkaResultSink(address);
        }
      }
      replies.deliver(requests, results);
    } catch (Exception e) {
      LOG.warn("results stored, but not written to Kafka for callers: {}", e.toString());
    }
  }

  /** Closes the replies' producer, if one was made. */
  synchronized void close() {
    if (replies != null) {
      replies.close();
    }
  }

  private static Map<Integer, Long> partitions(Map<TopicPartition, Long> offsets) {
    Map<Integer, Long> byNumber = new HashMap<>();
    offsets.forEach((tp, offset) -> byNumber.put(tp.partition(), offset));
    return byNumber;
  }

  /** On the poll thread, in the rebalance listener: new partitions wait for their offsets. */
  void assigned(KafkaConsumer<String, byte[]> consumer, Collection<TopicPartition> partitions) {
    unplaced.addAll(partitions);
    consumer.pause(partitions);
  }

  /** On the poll thread, in the rebalance listener. */
  void unassigned(Collection<TopicPartition> partitions) {
    unplaced.removeAll(partitions);
  }

  /**
   * On the poll thread, before each poll: seeks the partitions waiting for their offsets to those
   * the store holds and resumes them (they stay paused while the store cannot be read), and commits
   * to Kafka what the store holds.
   */
  void place(KafkaConsumer<String, byte[]> consumer) {
    if (!unplaced.isEmpty()) {
      try {
        Map<Integer, Long> at = store.positions(group, topic);
        unplaced.retainAll(consumer.assignment());
        for (TopicPartition tp : unplaced) {
          Long offset = at.get(tp.partition());
          if (offset != null) {
            consumer.seek(tp, offset);
          }
        }
        consumer.resume(unplaced);
        LOG.info("resuming {} at the offsets the results store holds: {}", unplaced, at);
        unplaced.clear();
        warned = false;
      } catch (Exception e) {
        if (!warned) {
          LOG.warn(
              "the results store did not say where to resume {}; they wait: {}",
              unplaced,
              e.toString());
          warned = true;
        }
      }
    }
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    Map<TopicPartition, OffsetAndMetadata> next;
    while ((next = stored.poll()) != null) {
      commit.putAll(next);
    }
    commit.keySet().retainAll(consumer.assignment());
    if (!commit.isEmpty()) {
      consumer.commitAsync(
          commit,
          (offsets, e) -> {
            if (e != null) {
              LOG.debug("showing the stored offsets in Kafka failed: {}", e.toString());
            }
          });
    }
  }
}
