package dev.conveyor.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class ResultBufferTest {
  /** What a sink was given, one entry per deliver call. */
  private final List<List<ImageRequest>> requests = new ArrayList<>();

  private final List<List<ClassifyResult>> results = new ArrayList<>();
  private boolean failing;
  private boolean closed;

  private final ResultSink sink =
      new ResultSink() {
        @Override
        public void deliver(List<ImageRequest> r, List<ClassifyResult> c) throws IOException {
          if (failing) {
            throw new IOException("broker down");
          }
          requests.add(List.copyOf(r));
          results.add(List.copyOf(c));
        }

        @Override
        public void close() {
          closed = true;
        }
      };

  private static String json(String id, boolean ok) {
    ImageRequest r = new ImageRequest(id, id, new byte[] {1}, null, null, 0);
    return Json.write(
        ok
            ? ClassifyResult.ok(r, "m", List.of(new Prediction(3, "cat", 0.9f)), "h", 1.5)
            : ClassifyResult.error(r, ErrorCode.CORRUPT, "bad", "h", 0.5));
  }

  @Test
  void resultsAreStoredInFullGroupsAndTheRestOnFlushWithTheirReplyAddresses() throws Exception {
    try (ResultBuffer buffer = new ResultBuffer(sink, 2)) {
      buffer.add("a", "replies", json("a", true));
      assertThat(results).isEmpty();
      buffer.add("b", null, json("b", false));
      buffer.add("c", null, json("c", true));
      assertThat(results).hasSize(1);
      assertThat(buffer.size()).isEqualTo(1);
      buffer.flush();
      buffer.flush();
    }
    assertThat(closed).isTrue();
    assertThat(results).hasSize(2);
    assertThat(results.get(0)).extracting(ClassifyResult::id).containsExactly("a", "b");
    assertThat(results.get(0).get(0).top().label()).isEqualTo("cat");
    assertThat(results.get(0).get(1).error().code()).isEqualTo(ErrorCode.CORRUPT);
    assertThat(requests.get(0)).extracting(ImageRequest::replyTo).containsExactly("replies", null);
    assertThat(requests.get(0)).extracting(ImageRequest::id).containsExactly("a", "b");
    assertThat(results.get(1)).extracting(ClassifyResult::id).containsExactly("c");
  }

  @Test
  void aFailedStoreKeepsTheGroupSoTheNextFlushStoresIt() throws Exception {
    ResultBuffer buffer = new ResultBuffer(sink, 10);
    buffer.add("a", null, json("a", true));
    failing = true;
    assertThatThrownBy(buffer::flush).hasMessage("broker down");
    assertThat(buffer.size()).isEqualTo(1);
    failing = false;
    buffer.flush();
    assertThat(results).hasSize(1);
    assertThat(buffer.size()).isZero();
  }

  @Test
  void aResultWaitsNoLongerThanTheLingerThenItsGroupIsStoredWithItsTags() throws Exception {
    long[] now = {0};
    List<List<String>> acknowledged = new ArrayList<>();
    ResultBuffer buffer =
        new ResultBuffer(sink, 100, java.time.Duration.ofMillis(100), () -> now[0])
            .onStored(acknowledged::add);
    assertThat(buffer.due()).as("nothing held").isFalse();
    buffer.add("a", null, json("a", true), "1-0");
    now[0] = 60_000_000;
    buffer.add("b", null, json("b", true));
    assertThat(buffer.flushIfDue()).as("60 ms after the first").isFalse();
    assertThat(results).isEmpty();
    now[0] = 100_000_000;
    assertThat(buffer.flushIfDue()).as("the timer, 100 ms after the first").isTrue();
    assertThat(results.get(0)).extracting(ClassifyResult::id).containsExactly("a", "b");
    assertThat(acknowledged).containsExactly(List.of("1-0"));

    // the next group counts from its own first result; an add past the linger stores at once
    now[0] = 150_000_000;
    buffer.add("c", null, json("c", true), "2-0");
    now[0] = 260_000_000;
    buffer.add("d", null, json("d", true), "3-0");
    assertThat(results).hasSize(2);
    assertThat(results.get(1)).extracting(ClassifyResult::id).containsExactly("c", "d");
    assertThat(acknowledged).containsExactly(List.of("1-0"), List.of("2-0", "3-0"));
    assertThat(buffer.size()).isZero();
  }

  @Test
  void tagsOfAGroupThatCouldNotBeStoredAreNotTold() throws Exception {
    List<List<String>> acknowledged = new ArrayList<>();
    ResultBuffer buffer =
        new ResultBuffer(sink, 10, java.time.Duration.ZERO).onStored(acknowledged::add);
    failing = true;
    assertThatThrownBy(() -> buffer.add("a", null, json("a", true), "1-0"))
        .hasMessage("broker down");
    assertThat(acknowledged).isEmpty();
    failing = false;
    buffer.flush();
    assertThat(acknowledged).containsExactly(List.of("1-0"));
  }
}
