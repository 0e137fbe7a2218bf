package dev.conveyor.redis;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.fuzz.FuzzRuns;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/**
 * Reply addresses as a producer writes them, against namespaces as an operator may configure them,
 * under a coverage-guided fuzzer: a {@code reply_to} is taken only inside the reply namespace, with
 * a name of its own there, and never names the queue (or a key named after it), the results stream,
 * the dead letters or a result key; a producer's id never makes a result key out of any of those; a
 * configuration whose namespaces overlap is refused.
 */
class ReplyAddressFuzzTest {
  private static final FuzzRuns RUNS = new FuzzRuns(ReplyAddressFuzzTest.class);
  private static final String[] PREFIXES = {
    "conveyor:reply:", "conveyor:", "r:", "", "conveyor:result:"
  };
  private static final String[] REPLIES = {
    "conveyor:reply:",
    "conveyor:images",
    "conveyor:results",
    "conveyor:dead",
    "conveyor:result:",
    ""
  };

  @FuzzTest(maxDuration = "10s")
  void replyTo(FuzzedDataProvider data) {
    RUNS.ran();
    String prefix = data.pickValue(PREFIXES) + data.consumeString(8);
    RedisConfig address;
    try {
      address =
          RedisConfig.parse(
              "redis://127.0.0.1:6379?mode=stream",
              data.consumeBoolean()
                  ? Map.of("reply-prefix", prefix)
                  : Map.of(
                      "reply-prefix",
                      prefix,
                      "result-prefix",
                      data.pickValue(new String[] {"", "conveyor:result:", "conveyor:"})
                          + data.consumeString(8)));
    } catch (ConveyorException refused) {
      return; // an overlapping or empty namespace is a setting error
    }
    String id = data.consumeString(12);
    String resultKey = address.resultPrefix() + id;
    if (address.resultKeyAllowed(resultKey)) {
      // a producer's id never makes a result key out of the worker's own keys or a reply list
      assertThat(resultKey)
          .isNotIn(address.images(), address.results(), address.deadLetter())
          .doesNotStartWith(address.images() + ":")
          .doesNotStartWith(address.replyPrefix());
    }
    String reply = data.pickValue(REPLIES) + data.consumeRemainingAsString();
    if (address.replyAllowed(reply)) {
      assertThat(reply).startsWith(address.replyPrefix());
      assertThat(reply.length()).isGreaterThan(address.replyPrefix().length());
      assertThat(reply).isNotIn(address.images(), address.results(), address.deadLetter());
      // nor a key a list-mode worker names after its queue (processing lists, deliveries)
      assertThat(reply).doesNotStartWith(address.images() + ":");
      if (!address.resultPrefix().isEmpty()) {
        assertThat(reply).doesNotStartWith(address.resultPrefix());
      }
    }
  }

  @AfterAll
  static void report() {
    RUNS.report();
  }
}
