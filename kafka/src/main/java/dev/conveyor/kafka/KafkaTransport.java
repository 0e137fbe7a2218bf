package dev.conveyor.kafka;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.PositionStore;
import dev.conveyor.core.transport.Transport;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RebalanceInProgressException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests from a Kafka topic through a consumer group; a poll is a batch. Offsets are committed
 * only up to the lowest record not yet acknowledged in each partition (acknowledged once its result
 * is written), before each poll and when partitions are revoked, so neither a crash nor a rebalance
 * loses a request. The consumer is used only from the thread that calls {@link #poll}. A record
 * whose processing failed is sent again with its attempt count, and to the dead-letter topic with
 * the error once it has failed {@code max-deliveries} times.
 */
@SuppressWarnings("unchecked") // a delivery's receipt is the record it came as
public final class KafkaTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaTransport.class);
  private static final Duration REVOKE_WAIT = Duration.ofSeconds(10);
  private final KafkaConfig address;
  private final KafkaConsumer<String, byte[]> consumer;
  private final KafkaProducer<String, byte[]> retries;
  private final Map<TopicPartition, TreeSet<Long>> unacked = new HashMap<>();
  private final Map<TopicPartition, Long> nextOffset = new HashMap<>();
  private final ConcurrentLinkedQueue<ConsumerRecord<String, byte[]>> acked =
      new ConcurrentLinkedQueue<>();
  private final ArrayDeque<ConsumerRecord<String, byte[]>> fetched = new ArrayDeque<>();
  private boolean uncommitted;

  /** Delivery exactly once: each batch's results and offsets in one transaction; else null. */
  private final KafkaTransactions transactions;

  private final KafkaOnce once;

  public KafkaTransport(KafkaConfig address, int maxBatch) {
    this.address = address;
    Topics.ensure(address);
    Properties c = address.properties();
    c.put("group.id", address.group());
    c.put("enable.auto.commit", "false");
    c.put("auto.offset.reset", "earliest");
    c.put("max.poll.records", Integer.toString(maxBatch));
    // a fetch of Kafka's default 1 MiB per partition holds one or two tensor requests (600 KB for
    // 224×224×3 float32), so batches would stay small; a user's own setting wins
    c.putIfAbsent("max.partition.fetch.bytes", Integer.toString(16 << 20));
    c.put("key.deserializer", StringDeserializer.class.getName());
    c.put("value.deserializer", ByteArrayDeserializer.class.getName());
    if (address.exactlyOnce()) {
      // requests written in transactions are read once committed, and never if aborted
      c.put("isolation.level", "read_committed");
    }
    this.consumer = new KafkaConsumer<>(c);
    this.transactions = address.exactlyOnce() ? new KafkaTransactions(address) : null;
    this.once = new KafkaOnce(this, transactions);
    this.retries = new KafkaProducer<>(KafkaRequests.producerProperties(address));
    consumer.subscribe(
        List.of(address.topic()),
        new ConsumerRebalanceListener() {
          @Override
          public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
            // fetched but not handed out: the next owner reads them from the committed offset
            fetched.removeIf(
                r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
            if (transactions == null) {
              awaitAcks(partitions);
            } // exactly once, a batch read before the rebalance is refused when it commits
            commitAcked();
            once.unassigned(partitions);
            partitions.forEach(
                p -> {
                  unacked.remove(p);
                  nextOffset.remove(p);
                });
          }

          /**
           * Lost, not given up: the group moved on without this consumer (the broker restarted or
           * it was silent past the session timeout), so nothing can be committed for them. What was
           * taken from them is read again by their next owner: at least once.
           */
          @Override
          public void onPartitionsLost(Collection<TopicPartition> partitions) {
            fetched.removeIf(
                r -> partitions.contains(new TopicPartition(r.topic(), r.partition())));
            partitions.forEach(
                p -> {
                  unacked.remove(p);
                  nextOffset.remove(p);
                });
            once.unassigned(partitions);
          }

          @Override
          public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
            once.assigned(consumer, partitions);
          }
        });
  }

  /**
   * Hands out up to {@code max} records: those a previous poll fetched beyond its maximum first,
   * then what the consumer brings within {@code timeout}.
   */
  @Override
  public List<Delivery> poll(int max, Duration timeout) {
    commitAcked();
    if (transactions != null) {
      once.rewind(consumer, fetched);
    }
    if (fetched.isEmpty()) {
      consumer.poll(timeout).forEach(fetched::add);
    }
    if (transactions != null) {
      once.group(consumer.groupMetadata());
    }
    List<Delivery> out = new ArrayList<>(Math.min(max, fetched.size()));
    while (out.size() < max && !fetched.isEmpty()) {
      ConsumerRecord<String, byte[]> record = fetched.poll();
      var request = Records.fromRecord(record, address.format());
      if (transactions != null && !once.take(record, request.model())) {
        fetched.addFirst(record); // another model's: the next batch, once this one is settled
        break;
      }
      TopicPartition tp = new TopicPartition(record.topic(), record.partition());
      unacked.computeIfAbsent(tp, k -> new TreeSet<>()).add(record.offset());
      nextOffset.merge(tp, record.offset() + 1, Math::max);
      out.add(new Delivery(request, Records.attempt(record), record));
    }
    return out;
  }

  /** With {@code delivery=exactly-once}: each batch's results and offsets in one transaction. */
  @Override
  public java.util.Optional<ExactlyOnce> exactlyOnce() {
    return transactions == null ? java.util.Optional.empty() : java.util.Optional.of(once);
  }

  /** With {@code delivery=exactly-once}: settles in the store instead of a Kafka transaction. */
  @Override
  public boolean storeIn(PositionStore store) {
    if (transactions == null) {
      return false;
    }
    once.storeIn(new KafkaStored(store, address));
    return true;
  }

  /** Records as acknowledged, for the poll thread to take off its books. */
  void acked(List<ConsumerRecord<String, byte[]>> records) {
    acked.addAll(records);
  }

  /**
   * Before giving partitions up, waits (at most {@link #REVOKE_WAIT}) for the records of theirs in
   * flight to be acknowledged, so that the next owner does not process them again.
   */
  private void awaitAcks(Collection<TopicPartition> partitions) {
    long deadline = System.nanoTime() + REVOKE_WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      drainAcked();
      boolean settled = true;
      for (TopicPartition p : partitions) {
        TreeSet<Long> pending = unacked.get(p);
        if (pending != null && !pending.isEmpty()) {
          settled = false;
        }
      }
      if (settled) {
        return;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /** Takes the acknowledgements the workers' threads queued; returns whether there were any. */
  private boolean drainAcked() {
    ConsumerRecord<String, byte[]> r;
    boolean any = false;
    while ((r = acked.poll()) != null) {
      TreeSet<Long> pending = unacked.get(new TopicPartition(r.topic(), r.partition()));
      if (pending != null) {
        pending.remove(r.offset());
        any = true;
      }
    }
    uncommitted |= any;
    return any;
  }

  /** Commits, for each partition, everything below its lowest unacknowledged record. */
  private void commitAcked() {
    drainAcked();
    if (!uncommitted || transactions != null) {
      return; // exactly once, offsets are committed in each batch's transaction
    }
    Map<TopicPartition, OffsetAndMetadata> commit = new HashMap<>();
    for (var e : unacked.entrySet()) {
      long upTo = e.getValue().isEmpty() ? nextOffset.get(e.getKey()) : e.getValue().first();
      commit.put(e.getKey(), new OffsetAndMetadata(upTo));
    }
    try {
      consumer.commitSync(commit);
      uncommitted = false;
    } catch (CommitFailedException | RebalanceInProgressException e) {
      // this consumer is no longer (or not yet again) in the group: its next poll rejoins, and
      // the partitions it lost are read again by their owner from their committed offsets
      LOG.warn(
          "committing offsets of {} failed; rejoining the group: {}",
          address.describe(),
          e.getMessage());
    }
  }

  @Override
  public void ack(List<Delivery> deliveries) {
    for (Delivery d : deliveries) {
      acked.add((ConsumerRecord<String, byte[]>) d.receipt());
    }
  }

  /** Sends each record again (or to the dead-letter topic), then acknowledges the original. */
  @Override
  public void release(List<Delivery> deliveries, String reason) {
    if (transactions != null) {
      // a batch whose transaction failed is read again from where it began, not sent again
      deliveries = once.released(deliveries);
    }
    List<ProducerRecord<String, byte[]>> copies = new ArrayList<>();
    deliveries.forEach(d -> copies.add(Records.again(d, address, reason)));
    if (transactions == null || !once.inTransaction()) {
      // exactly once into a store, before the batch's offsets pass the originals
      List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
      copies.forEach(c -> sent.add(retries.send(c)));
      for (var f : sent) {
        try {
          f.get();
        } catch (Exception e) {
          throw new ConveyorException(
              ErrorCode.UNAVAILABLE, "cannot send a failed request again: " + e.getMessage(), e);
        }
      }
    }
    if (transactions != null) {
      once.handedBack(deliveries, copies);
    }
    ack(deliveries);
  }

  @Override
  public String describe() {
    return address.describe();
  }

  @Override
  public void close() {
    try {
      commitAcked();
    } finally {
      consumer.close();
      retries.close();
      if (transactions != null) {
        transactions.close();
        once.close();
      }
    }
  }
}
