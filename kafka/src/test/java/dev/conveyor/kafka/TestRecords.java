package dev.conveyor.kafka;

import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.record.TimestampType;

/** Records as a consumer hands them on, for tests of their decoding. */
final class TestRecords {
  private TestRecords() {}

  /** A record at {@code topic/partition@offset}, with no timestamp or sizes to speak of. */
  static ConsumerRecord<String, byte[]> consumed(
      String topic, int partition, long offset, String key, byte[] value, Headers headers) {
    return new ConsumerRecord<>(
        topic,
        partition,
        offset,
        0L,
        TimestampType.CREATE_TIME,
        -1,
        -1,
        key,
        value,
        headers,
        Optional.empty());
  }
}
