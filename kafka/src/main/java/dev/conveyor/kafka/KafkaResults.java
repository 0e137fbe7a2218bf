package dev.conveyor.kafka;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.transport.Results;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Reads the results topic (without joining the workers' group): all of it, or as results come. */
public final class KafkaResults implements Results {
  private final KafkaConfig address;
  private final KafkaConsumer<String, byte[]> consumer;
  private final List<TopicPartition> partitions = new ArrayList<>();

  public KafkaResults(KafkaConfig address) {
    this.address = address;
    Properties p = address.properties();
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    p.put("enable.auto.commit", "false");
    // results written in a worker's transaction (delivery=exactly-once) are read once committed,
    // and never if aborted; those written without one are read as they come
    p.putIfAbsent("isolation.level", "read_committed");
    this.consumer = new KafkaConsumer<>(p);
    for (PartitionInfo info : consumer.partitionsFor(address.results())) {
      partitions.add(new TopicPartition(address.results(), info.partition()));
    }
    consumer.assign(partitions);
  }

  /**
   * Kafka keeps results as a log, not by id.
   *
   * @throws ConveyorException {@code INVALID_SETTING} always, saying what to do instead
   */
  @Override
  public ClassifyResult get(String id) {
    throw new ConveyorException(
        ErrorCode.INVALID_SETTING,
        "Kafka keeps results as a log, not by id: read them all, or follow them as they come");
  }

  /** Hands every result stored in the results topic to {@code sink}, then returns. */
  @Override
  public void stored(Consumer<String> sink) {
    consumer.seekToBeginning(partitions);
    Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
    while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
      consumer
          .poll(Duration.ofMillis(200))
          .forEach(r -> sink.accept(new String(r.value(), StandardCharsets.UTF_8)));
    }
  }

  /** Hands every result written from now on to {@code sink}, while {@code running} holds. */
  @Override
  public void follow(BooleanSupplier running, Consumer<String> sink) {
    fromNow();
    while (running.getAsBoolean()) {
      poll(sink);
    }
  }

  /** Positions the reader at the end of the results topic: only results written later are read. */
  public void fromNow() {
    consumer.seekToEnd(partitions);
    partitions.forEach(consumer::position);
  }

  /** Hands the results that arrived (waiting up to 200 ms for some) to {@code sink}. */
  public void poll(Consumer<String> sink) {
    consumer
        .poll(Duration.ofMillis(200))
        .forEach(r -> sink.accept(new String(r.value(), StandardCharsets.UTF_8)));
  }

  @Override
  public void close() {
    consumer.close();
  }
}
