package dev.conveyor.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class EmbeddedTransportTest {
  private static ImageRequest request(String name) {
    return ImageRequest.ofBytes(name, new byte[] {1}, null);
  }

  @Test
  void aFullQueueAnswersBusyAtOnceAndLosesNothingAccepted() throws Exception {
    EmbeddedTransport t = new EmbeddedTransport(2, 3);
    t.submit(request("a"));
    t.submit(request("b"));
    long start = System.nanoTime();
    assertThatThrownBy(() -> t.submit(request("c")))
        .isInstanceOf(ConveyorException.class)
        .satisfies(e -> assertThat(((ConveyorException) e).code()).isEqualTo(ErrorCode.BUSY))
        .hasMessageContaining("queue is full");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofMillis(100));
    assertThat(t.poll(10, Duration.ZERO))
        .extracting(d -> d.request().source())
        .containsExactly("a", "b");
  }

  @Test
  void aWaitingProducerGetsInWhenRoomIsMade() throws Exception {
    EmbeddedTransport t = new EmbeddedTransport(1, 3);
    t.submit(request("a"));
    CompletableFuture<Void> producer =
        CompletableFuture.runAsync(
            () -> {
              try {
                t.submit(request("b"), Duration.ofSeconds(5));
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
            });
    Thread.sleep(100);
    assertThat(producer).isNotDone();
    assertThat(t.poll(1, Duration.ZERO)).hasSize(1);
    producer.get();
    assertThat(t.poll(1, Duration.ZERO)).extracting(d -> d.request().source()).containsExactly("b");
  }

  @Test
  void pollsTakeUpToTheMaximumAndWaitOnlyForAFirstRequest() throws Exception {
    EmbeddedTransport t = new EmbeddedTransport(100, 3);
    for (int i = 0; i < 10; i++) {
      t.submit(request("r" + i));
    }
    assertThat(t.poll(4, Duration.ofSeconds(10))).hasSize(4);
    assertThat(t.poll(100, Duration.ofMillis(50))).hasSize(6);
    t.submit(request("late"));
    long start = System.nanoTime();
    assertThat(t.poll(8, Duration.ofSeconds(10))).hasSize(1);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("one waiting request comes back at once; lingering is the worker's")
        .isLessThan(Duration.ofSeconds(5));
    start = System.nanoTime();
    assertThat(t.poll(8, Duration.ofMillis(50)))
        .as("nothing left: empty after the timeout")
        .isEmpty();
    assertThat((System.nanoTime() - start) / 1_000_000).isBetween(40L, 1000L);
  }

  @Test
  void releasedRequestsComeBackFirstAndAreDeadLetteredAfterMaxDeliveries() throws Exception {
    EmbeddedTransport t = new EmbeddedTransport(10, 2);
    CompletableFuture<ClassifyResult> poison = t.submit(request("poison"));
    t.submit(request("next"));
    List<Delivery> first = t.poll(1, Duration.ZERO);
    t.release(first, "boom");
    List<Delivery> second = t.poll(1, Duration.ZERO);
    assertThat(second.get(0).request().source()).isEqualTo("poison");
    assertThat(second.get(0).attempt()).isEqualTo(2);
    t.release(second, "boom again");
    ClassifyResult dead = poison.get();
    assertThat(dead.status()).isEqualTo(ClassifyResult.Status.ERROR);
    assertThat(dead.error().code()).isEqualTo(ErrorCode.DEAD_LETTER);
    assertThat(dead.error().message()).contains("2 deliveries").contains("boom again");
    assertThat(t.poll(5, Duration.ZERO))
        .extracting(d -> d.request().source())
        .containsExactly("next");
  }

  @Test
  void closingFailsWaitingCallersInsteadOfLeavingThemHanging() {
    EmbeddedTransport t = new EmbeddedTransport(10, 2);
    CompletableFuture<ClassifyResult> f = t.submit(request("a"));
    t.close();
    assertThat(f).isCompletedExceptionally();
  }
}
