package dev.conveyor.kafka;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.OutOfOrderSequenceException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's results and the offsets of the requests they answer, written in one Kafka transaction
 * per batch ({@code delivery=exactly-once}): readers of the results topic that read committed
 * records see a batch's results exactly when its requests count as consumed. The offsets are
 * committed with the consumer's group metadata, so that a worker the group has moved on from (a
 * zombie: paused past its session, then back) cannot commit: its transaction fails and is aborted,
 * and its requests are read again by their new owner.
 */
final class KafkaTransactions implements KafkaOnce.Settle, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaTransactions.class);

  private final KafkaConfig address;
  private final String transactionalId;
  private KafkaProducer<String, byte[]> producer;
  private KafkaResultSink sink;

  KafkaTransactions(KafkaConfig address) {
    this.address = address;
    this.transactionalId = "conveyor-" + address.group() + "-" + UUID.randomUUID();
  }

  /** The producer, made and registered with the transaction coordinator on first use. */
  private KafkaResultSink sink() {
    if (sink == null) {
      Properties p = KafkaRequests.producerProperties(address);
      p.put("transactional.id", transactionalId);
      p.put("enable.idempotence", "true");
      producer = new KafkaProducer<>(p);
      try {
        producer.initTransactions();
      } catch (KafkaException e) {
        producer.close();
        producer = null;
        throw new ConveyorException(
            ErrorCode.UNAVAILABLE,
            "Kafka did not start a transactional producer for "
                + address.describe()
                + ": "
                + e.getMessage(),
            e);
      }
      sink = new KafkaResultSink(address, producer);
    }
    return sink;
  }

  @Override
  public Map<TopicPartition, Long> settle(
      List<ImageRequest> requests,
      List<ClassifyResult> results,
      List<ProducerRecord<String, byte[]>> copies,
      Map<TopicPartition, Long> from,
      Map<TopicPartition, Long> to,
      ConsumerGroupMetadata readIn) {
    Map<TopicPartition, OffsetAndMetadata> offsets = new java.util.HashMap<>();
    to.forEach((tp, offset) -> offsets.put(tp, new OffsetAndMetadata(offset)));
    commit(requests, results, copies, offsets, readIn);
    return Map.of();
  }

  /**
   * Writes the results and commits the offsets in one transaction.
   *
   * @throws ConveyorException {@code UNAVAILABLE} when the transaction did not commit: nothing of
   *     it is visible to readers of committed records, and the offsets are where they were
   */
  synchronized void commit(
      List<ImageRequest> requests,
      List<ClassifyResult> results,
      List<ProducerRecord<String, byte[]>> copies,
      Map<TopicPartition, OffsetAndMetadata> offsets,
      ConsumerGroupMetadata group) {
    KafkaResultSink s = sink();
    try {
      producer.beginTransaction();
      s.send(requests, results);
      copies.forEach(producer::send);
      producer.sendOffsetsToTransaction(offsets, group);
      producer.commitTransaction();
    } catch (ProducerFencedException
        | OutOfOrderSequenceException
        | AuthorizationException
        | UnsupportedVersionException fatal) {
      // the producer cannot go on: a new one, registered again, takes the next batch
      reset();
      throw failed(fatal);
    } catch (KafkaException e) {
      try {
        producer.abortTransaction();
      } catch (KafkaException alsoFailed) {
        reset();
      }
      throw failed(e);
    }
  }

  private ConveyorException failed(KafkaException e) {
    LOG.warn("a batch's transaction on {} did not commit: {}", address.describe(), e.toString());
    return new ConveyorException(
        ErrorCode.UNAVAILABLE,
        "the results' transaction did not commit, and their requests will be read again: "
            + e.getMessage(),
        e);
  }

  private void reset() {
    if (sink != null) {
      sink.close();
    }
    sink = null;
    producer = null;
  }

  @Override
  public synchronized void close() {
    reset();
  }
}
