package dev.conveyor.kafka;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.conveyor.core.fuzz.FuzzRuns;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.record.TimestampType;
import org.junit.jupiter.api.AfterAll;

/**
 * Kafka request decoding under a coverage-guided fuzzer: any record, with any key, value (or none)
 * and headers, is a request the pipeline answers; reading one never throws, since the worker's poll
 * loop would stop on it.
 */
class RecordsFuzzTest {
  private static final FuzzRuns RUNS = new FuzzRuns(RecordsFuzzTest.class);
  private static final String[] HEADERS = {
    Records.CONTENT_TYPE,
    Records.REPLY_TO,
    Records.CONTENT_REF,
    Records.SOURCE,
    Records.ATTEMPT,
    "other"
  };

  @FuzzTest(maxDuration = "10s")
  void read(FuzzedDataProvider data) {
    RUNS.ran();
    RecordHeaders headers = new RecordHeaders();
    int n = data.consumeInt(0, 5);
    for (int i = 0; i < n; i++) {
      headers.add(data.pickValue(HEADERS), data.consumeBoolean() ? null : data.consumeBytes(40));
    }
    String key = data.consumeBoolean() ? null : data.consumeString(40);
    byte[] value = data.consumeBoolean() ? null : data.consumeRemainingAsBytes();
    ConsumerRecord<String, byte[]> record =
        new ConsumerRecord<>(
            "images",
            0,
            7,
            0L,
            TimestampType.CREATE_TIME,
            -1,
            -1,
            key,
            value,
            headers,
            Optional.empty());
    Records.fromRecord(record);
    Records.attempt(record);
  }

  @AfterAll
  static void report() {
    RUNS.report();
  }
}
