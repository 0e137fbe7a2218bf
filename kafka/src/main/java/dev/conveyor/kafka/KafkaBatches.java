package dev.conveyor.kafka;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsSpec;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Results of numbered batches written to Kafka once each, however often a batch is written again (a
 * Spark micro-batch run again after a failure keeps its number): each batch in one transaction that
 * also commits the batch's number, plus one, as the offset of the writer's own group on the results
 * topic's partition 0. A batch whose number is below what the group holds was written, and is not
 * written again. The transactional id is the writer's, so a writer started again fences the one
 * before it, whose open transaction is aborted. Nothing consumes with the writer's group: its
 * offset is only the record of the batches written.
 */
public final class KafkaBatches implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaBatches.class);
  private static final Duration SETTLE = Duration.ofSeconds(60);
  private final KafkaConfig address;
  private final String writer;
  private final TopicPartition marker;
  private final KafkaProducer<String, byte[]> producer;
  private final Admin admin;

  /** A record to write: its topic, key (the request id) and value (the result's JSON). */
  public record Out(String topic, String key, String value) {}

  /**
   * @param writer the writer's name, the same each time the same query runs (a Spark query's id)
   */
  public KafkaBatches(KafkaConfig address, String writer) {
    this.address = address;
    this.writer = writer;
    this.marker = new TopicPartition(address.results(), 0);
    Properties p = KafkaRequests.producerProperties(address);
    p.put("transactional.id", writer);
    this.producer = new KafkaProducer<>(p);
    this.admin = Admin.create(address.properties());
    try {
      producer.initTransactions();
    } catch (KafkaException e) {
      close();
      throw new ConveyorException(
          ErrorCode.UNAVAILABLE,
          "Kafka did not start a transactional producer for " + address.describe() + ": " + e,
          e);
    }
  }

  /**
   * Writes batch {@code number}'s records in one transaction, unless it was written already.
   *
   * @return whether they were written now
   */
  public boolean write(long number, List<Out> records) throws Exception {
    if (written() > number) {
      LOG.info("batch {} was written to {} already: not written again", number, address.describe());
      return false;
    }
    try {
      producer.beginTransaction();
      for (Out o : records) {
        producer.send(
            new ProducerRecord<>(o.topic(), o.key(), o.value().getBytes(StandardCharsets.UTF_8)));
      }
      producer.sendOffsetsToTransaction(
          Map.of(marker, new OffsetAndMetadata(number + 1)), new ConsumerGroupMetadata(writer));
      producer.commitTransaction();
      return true;
    } catch (KafkaException e) {
      try {
        producer.abortTransaction();
      } catch (KafkaException alsoFailed) {
        e.addSuppressed(alsoFailed);
      }
      throw new ConveyorException(
          ErrorCode.UNAVAILABLE,
          "batch " + number + "'s results were not written to " + address.describe() + ": " + e,
          e);
    }
  }

  /**
   * How many batches were written: the number after the last one, from the writer's group. A
   * transaction that committed a moment ago may leave the offset pending (unstable) for a while;
   * the admin client then leaves the partition out of its answer, so this asks again until it is
   * settled rather than read a pending offset as none.
   */
  private long written() throws InterruptedException, ExecutionException {
    long deadline = System.nanoTime() + SETTLE.toNanos();
    while (true) {
      Map<TopicPartition, OffsetAndMetadata> at =
          admin
              .listConsumerGroupOffsets(
                  Map.of(
                      writer, new ListConsumerGroupOffsetsSpec().topicPartitions(List.of(marker))),
                  new ListConsumerGroupOffsetsOptions().requireStable(true))
              .partitionsToOffsetAndMetadata(writer)
              .get();
      if (at.containsKey(marker)) {
        OffsetAndMetadata o = at.get(marker);
        return o == null ? 0 : o.offset();
      }
      if (System.nanoTime() > deadline) {
        throw new ConveyorException(
            ErrorCode.UNAVAILABLE,
            "Kafka kept the batches written to "
                + address.describe()
                + " pending for "
                + SETTLE.toSeconds()
                + " s: a transaction of this writer is still open; try again");
      }
      Thread.sleep(50);
    }
  }

  @Override
  public void close() {
    producer.close();
    admin.close();
  }
}
