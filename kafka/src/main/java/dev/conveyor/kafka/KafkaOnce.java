package dev.conveyor.kafka;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.Transport;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A Kafka worker's batches settled exactly once: the records handed out since the last batch was
 * settled are that batch (the worker takes one at a time, in order), so its transaction commits,
 * for each partition, the offset after its last record. A batch holds one model's requests: a
 * record naming another model waits for the next one, so that no batch's offsets pass a record
 * another batch still holds. A batch whose transaction fails is read again from where it began: the
 * poll thread seeks back before its next poll. The transaction is Kafka's ({@link
 * KafkaTransactions}), or a results store's that keeps offsets ({@link KafkaStored}).
 */
final class KafkaOnce implements Transport.ExactlyOnce {
  private final KafkaTransport transport;
  private volatile Settle settle;
  private volatile KafkaStored stored;
  private final List<ConsumerRecord<String, byte[]>> batch = new ArrayList<>();
  private final ConcurrentLinkedQueue<Map<TopicPartition, Long>> rewinds =
      new ConcurrentLinkedQueue<>();
  private final Set<ConsumerRecord<String, byte[]>> rewound =
      Collections.synchronizedSet(Collections.newSetFromMap(new IdentityHashMap<>()));
  private final List<ProducerRecord<String, byte[]>> resend = new ArrayList<>();
  private int released;
  private String model;
  private volatile ConsumerGroupMetadata group;

  /**
   * The group's metadata when the batch's first record was taken: a batch taken before a rebalance
   * commits with the generation it was read in, and is refused if the group has moved on.
   */
  private ConsumerGroupMetadata batchGroup;

  /** How a batch's results and offsets are written in one transaction. */
  interface Settle {
    /**
     * Writes the results and the copies of released requests, and moves each partition from {@code
     * from} to {@code to}, in one transaction.
     *
     * @return empty when written; else, nothing written, where to read each partition again from
     * @throws Exception when the transaction did not commit
     */
    Map<TopicPartition, Long> settle(
        List<ImageRequest> requests,
        List<ClassifyResult> results,
        List<ProducerRecord<String, byte[]>> copies,
        Map<TopicPartition, Long> from,
        Map<TopicPartition, Long> to,
        ConsumerGroupMetadata readIn)
        throws Exception;
  }

  KafkaOnce(KafkaTransport transport, Settle settle) {
    this.transport = transport;
    this.settle = settle;
  }

  /** Settles in {@code store} from now on: called before the first poll. */
  void storeIn(KafkaStored store) {
    this.stored = store;
    this.settle = store;
  }

  /** On the poll thread, in the rebalance listener: with a results store, placed before read. */
  void assigned(KafkaConsumer<String, byte[]> consumer, Collection<TopicPartition> partitions) {
    if (stored != null) {
      stored.assigned(consumer, partitions);
    }
  }

  /** Closes what settling in a results store opened. */
  void close() {
    if (stored != null) {
      stored.close();
    }
  }

  /** On the poll thread, in the rebalance listener: revoked or lost. */
  void unassigned(Collection<TopicPartition> partitions) {
    if (stored != null) {
      stored.unassigned(partitions);
    }
  }

  @Override
  public boolean inOrder() {
    return true;
  }

  /** The group's metadata as of the last poll. */
  void group(ConsumerGroupMetadata metadata) {
    group = metadata;
  }

  /** Adds the record to the batch, unless it names another model than the batch's. */
  synchronized boolean take(ConsumerRecord<String, byte[]> record, String named) {
    if (!batch.isEmpty() && !Objects.equals(model, named)) {
      return false;
    }
    if (batch.isEmpty()) {
      batchGroup = group;
    }
    model = named;
    batch.add(record);
    return true;
  }

  @Override
  public boolean[] deliverAndAck(List<Delivery> deliveries, List<ClassifyResult> results)
      throws Exception {
    List<ConsumerRecord<String, byte[]>> settled;
    List<ProducerRecord<String, byte[]>> copies;
    ConsumerGroupMetadata readIn;
    synchronized (this) {
      settled = new ArrayList<>(batch);
      copies = new ArrayList<>(resend);
      readIn = batchGroup;
      batch.clear();
      resend.clear();
      released = 0;
    }
    Map<TopicPartition, Long> to = new HashMap<>();
    Map<TopicPartition, Long> from = new HashMap<>();
    for (ConsumerRecord<String, byte[]> r : settled) {
      TopicPartition tp = new TopicPartition(r.topic(), r.partition());
      to.merge(tp, r.offset() + 1, Math::max);
      from.merge(tp, r.offset(), Math::min);
    }
    Map<TopicPartition, Long> again;
    try {
      again =
          settle.settle(
              deliveries.stream().map(Delivery::request).toList(),
              results,
              copies,
              from,
              to,
              readIn);
    } catch (Exception e) {
      rewinds.add(from);
      deliveries.forEach(d -> rewound.add(record(d)));
      throw e;
    }
    boolean[] stored = new boolean[results.size()];
    if (again.isEmpty()) {
      Arrays.fill(stored, true);
    } else {
      rewinds.add(again); // answered by another worker: read on from where the store says
    }
    transport.acked(deliveries.stream().map(KafkaOnce::record).toList());
    return stored;
  }

  /**
   * Of deliveries being released, those to send again (a failed model, say): they leave the batch;
   * those of a failed transaction are read again instead, and are only taken off the books.
   */
  List<Delivery> released(List<Delivery> deliveries) {
    List<Delivery> again = new ArrayList<>();
    List<ConsumerRecord<String, byte[]>> reread = new ArrayList<>();
    for (Delivery d : deliveries) {
      if (rewound.remove(record(d))) {
        reread.add(record(d));
      } else {
        again.add(d);
      }
    }
    transport.acked(reread);
    return again;
  }

  /** Whether a batch's transaction is Kafka's, which the copies of released requests join. */
  boolean inTransaction() {
    return stored == null;
  }

  /**
   * Requests handed back for another try, and their copies (or dead letters): they stay in the
   * batch, whose offsets cover them. In Kafka's transactions the copies are written in the batch's
   * transaction, so that a worker killed in between leaves either the original to read again or its
   * copy, never both. With a results store, whose transaction Kafka's records cannot join, they
   * were sent already (a kill before the store leaves both, and the store keeps one result per
   * request id). A batch handed back whole is settled now; a part of one, with the rest's results.
   */
  void handedBack(List<Delivery> deliveries, List<ProducerRecord<String, byte[]>> copies) {
    boolean whole;
    synchronized (this) {
      if (stored == null) {
        resend.addAll(copies);
      }
      released += deliveries.size();
      whole = released >= batch.size();
    }
    if (whole && !deliveries.isEmpty()) {
      try {
        deliverAndAck(List.of(), List.of());
      } catch (Exception e) {
        // rewound: the batch is read again from where it began
      }
    }
  }

  /**
   * On the poll thread: seeks back to the batches whose transaction failed, if still assigned, and
   * places newly assigned partitions where the results store says.
   */
  void rewind(
      KafkaConsumer<String, byte[]> consumer, ArrayDeque<ConsumerRecord<String, byte[]>> fetched) {
    if (stored != null) {
      stored.place(consumer);
    }
    Map<TopicPartition, Long> seek;
    while ((seek = rewinds.poll()) != null) {
      Set<TopicPartition> assigned = consumer.assignment();
      for (Map.Entry<TopicPartition, Long> e : seek.entrySet()) {
        TopicPartition tp = e.getKey();
        if (assigned.contains(tp)) {
          fetched.removeIf(r -> r.topic().equals(tp.topic()) && r.partition() == tp.partition());
          consumer.seek(tp, e.getValue());
        }
      }
    }
  }

  @SuppressWarnings("unchecked")
  private static ConsumerRecord<String, byte[]> record(Delivery d) {
    return (ConsumerRecord<String, byte[]>) d.receipt();
  }
}
