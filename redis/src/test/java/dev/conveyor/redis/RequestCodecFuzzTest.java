package dev.conveyor.redis;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.conveyor.core.fuzz.FuzzRuns;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/**
 * Redis request decoding under a coverage-guided fuzzer: a list or Pub/Sub message (JSON) and a
 * stream entry's fields are a request, or an {@link IllegalArgumentException} that the worker turns
 * into a dead letter; never any other exception, which would stop the worker's loop.
 */
class RequestCodecFuzzTest {
  private static final FuzzRuns RUNS = new FuzzRuns(RequestCodecFuzzTest.class);
  private static final String[] FIELDS = {
    "id", "image", "ref", "content_type", "reply_to", "source", "other"
  };
  private static final RedisConfig SEED003 =
      RedisConfig.parse("redis://127.0.0.1:6379?profile=seed003&tensor-layout=nhwc");

  @FuzzTest(maxDuration = "10s")
  void decode(FuzzedDataProvider data) {
    RUNS.ran();
    try {
      if (data.consumeBoolean()) {
        SEED003.typed(RequestCodec.fromJson(data.consumeRemainingAsBytes()));
      } else {
        Map<byte[], byte[]> fields = new LinkedHashMap<>();
        int n = data.consumeInt(0, 6);
        for (int i = 0; i < n; i++) {
          byte[] key =
              data.consumeBoolean()
                  ? RequestCodec.bytes(data.pickValue(FIELDS))
                  : data.consumeBytes(12);
          fields.put(key, data.consumeBytes(200));
        }
        RequestCodec.fromEntry("images", "1-0", fields);
        SEED003.typed(RequestCodec.fromFields(fields));
      }
    } catch (IllegalArgumentException expected) {
      // dead-lettered with its reason
    }
  }

  @AfterAll
  static void report() {
    RUNS.report();
  }
}
