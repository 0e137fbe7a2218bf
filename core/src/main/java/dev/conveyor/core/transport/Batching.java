package dev.conveyor.core.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Dynamic batching over a blocking queue: wait for a first item, take all that are already there,
 * then keep polling until the batch is full, {@code linger} has passed since the first item, or
 * (when given) {@code keepLingering} no longer holds.
 */
public final class Batching {
  /** How long {@link #take} waits for a first item before returning nothing. */
  public static final Duration IDLE_WAIT = Duration.ofMillis(200);

  /** How often a lingering batch checks whether it should stop waiting. */
  private static final long CHECK_NANOS = TimeUnit.MICROSECONDS.toNanos(500);

  private Batching() {}

  public static <T> List<T> take(BlockingQueue<T> queue, int max, Duration linger)
      throws InterruptedException {
    return take(queue, max, linger, () -> true);
  }

  public static <T> List<T> take(
      BlockingQueue<T> queue, int max, Duration linger, BooleanSupplier keepLingering)
      throws InterruptedException {
    T first = queue.poll(IDLE_WAIT.toNanos(), TimeUnit.NANOSECONDS);
    if (first == null) {
      return List.of();
    }
    long deadline = System.nanoTime() + linger.toNanos();
    List<T> batch = new ArrayList<>(max);
    batch.add(first);
    queue.drainTo(batch, max - batch.size());
    while (batch.size() < max && keepLingering.getAsBoolean()) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        break;
      }
      T next = queue.poll(Math.min(remaining, CHECK_NANOS), TimeUnit.NANOSECONDS);
      if (next != null) {
        batch.add(next);
        queue.drainTo(batch, max - batch.size());
      }
    }
    return batch;
  }
}
