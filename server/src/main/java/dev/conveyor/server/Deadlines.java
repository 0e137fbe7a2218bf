package dev.conveyor.server;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Ends callers' waits that run past one fixed timeout. Every wait has the same timeout, so
 * deadlines come in the order waits start, and one thread checking the oldest every few
 * milliseconds replaces a timer task per request ({@code CompletableFuture.orTimeout}'s shared
 * timer costs a quarter of the throughput of a cheap model over HTTP).
 */
final class Deadlines implements AutoCloseable {
  private static final long CHECK_MILLIS = 20;

  private record Wait(CompletableFuture<?> waiter, long deadline) {}

  private final long timeoutNanos;
  private final ConcurrentLinkedQueue<Wait> waits = new ConcurrentLinkedQueue<>();
  private final ScheduledExecutorService checker;

  Deadlines(Duration timeout) {
    this.timeoutNanos = timeout.toNanos();
    this.checker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "conveyor-deadlines");
              t.setDaemon(true);
              return t;
            });
    checker.scheduleWithFixedDelay(this::expire, CHECK_MILLIS, CHECK_MILLIS, TimeUnit.MILLISECONDS);
  }

  /**
   * A future that completes as {@code source} does, or fails with a {@link TimeoutException} once
   * the timeout has passed; {@code source} itself is left alone.
   */
  <T> CompletableFuture<T> bound(CompletableFuture<T> source) {
    CompletableFuture<T> waiter = new CompletableFuture<>();
    waits.add(new Wait(waiter, System.nanoTime() + timeoutNanos));
    source.whenComplete(
        (value, failure) -> {
          if (failure != null) {
            waiter.completeExceptionally(failure);
          } else {
            waiter.complete(value);
          }
        });
    return waiter;
  }

  private void expire() {
    long now = System.nanoTime();
    Wait oldest;
    while ((oldest = waits.peek()) != null && now - oldest.deadline() >= 0) {
      waits.poll();
      oldest.waiter().completeExceptionally(new TimeoutException());
    }
    // finished waits are dropped from the front without waiting for their deadline
    while ((oldest = waits.peek()) != null && oldest.waiter().isDone()) {
      waits.poll();
    }
  }

  @Override
  public void close() {
    checker.shutdownNow();
  }
}
