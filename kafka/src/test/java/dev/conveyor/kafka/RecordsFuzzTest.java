package dev.conveyor.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.fuzz.FuzzRuns;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.AfterAll;

/**
 * Kafka request decoding under a coverage-guided fuzzer: any record, with any key, value (or none)
 * and headers, read in either format, is a request the pipeline answers; reading one never throws,
 * since the worker's poll loop would stop on it.
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
    RequestFormat format =
        data.consumeBoolean() ? RequestFormat.CONVEYOR : new RequestFormat(true, "file:/srv/in/");
    String key = data.consumeBoolean() ? null : data.consumeString(40);
    byte[] value = data.consumeBoolean() ? null : data.consumeRemainingAsBytes();
    ConsumerRecord<String, byte[]> record =
        TestRecords.consumed("images", 0, 7, key, value, headers);
    ImageRequest r = Records.fromRecord(record, format);
    boolean bare =
        format.keys()
            && Records.header(headers, Records.CONTENT_REF) == null
            && Records.header(headers, Records.CONTENT_TYPE) == null
            && Records.header(headers, Records.SOURCE) == null;
    if (bare && !r.hasBytes()) {
      // a bare key never leaves the prefix
      assertThat(r.source()).startsWith("file:/srv/in/").doesNotStartWith("file:/srv/in//");
      assertThat(("/" + r.id() + "/").contains("/../")).as(r.id()).isFalse();
    }
    Records.attempt(record);
  }

  @AfterAll
  static void report() {
    RUNS.report();
  }
}
