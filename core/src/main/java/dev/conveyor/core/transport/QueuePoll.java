package dev.conveyor.core.transport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/** {@link Transport#poll} over an in-memory queue, for transports that receive into one. */
public final class QueuePoll {
  private QueuePoll() {}

  public static <T> List<T> poll(BlockingQueue<T> queue, int max, Duration timeout)
      throws InterruptedException {
    T first = queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    if (first == null) {
      return List.of();
    }
    List<T> batch = new ArrayList<>(Math.min(max, 64));
    batch.add(first);
    queue.drainTo(batch, max - 1);
    return batch;
  }
}
