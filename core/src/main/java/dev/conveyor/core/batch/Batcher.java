package dev.conveyor.core.batch;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Gathers the next batch: the first requests that come, then more while the model is still busy
 * with earlier batches, for at most the linger, up to the batch size. An idle model starts at once,
 * so lingering never delays a lone request.
 *
 * @param <T> what is gathered (a worker's deliveries)
 */
public final class Batcher<T> {
  private static final Logger LOG = LoggerFactory.getLogger(Batcher.class);

  /** How often a lingering batch checks whether the model has become free. */
  private static final long LINGER_STEP_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  /** Where requests are polled from. */
  @FunctionalInterface
  public interface Source<T> {
    /**
     * Up to {@code max} requests: waits at most {@code timeout} for a first one, then takes those
     * already waiting. Empty when nothing came.
     */
    List<T> poll(int max, Duration timeout) throws InterruptedException;
  }

  private final Source<T> source;
  private final String name;
  private final int batchSize;
  private final Duration linger;
  private final BooleanSupplier modelBusy;

  /**
   * @param name the source, for logs
   * @param modelBusy whether a batch gathered now would have to wait for the model
   */
  public Batcher(
      Source<T> source, String name, int batchSize, Duration linger, BooleanSupplier modelBusy) {
    this.source = source;
    this.name = name;
    this.batchSize = batchSize;
    this.linger = linger;
    this.modelBusy = modelBusy;
  }

  /**
   * The next batch, after waiting at most {@code idleWait} for its first request; empty when none
   * came. A failure of the first poll is thrown; a failure while lingering ends the batch with what
   * it holds.
   */
  public List<T> next(Duration idleWait) throws InterruptedException {
    List<T> batch = new ArrayList<>(source.poll(batchSize, idleWait));
    long deadline = System.nanoTime() + linger.toNanos();
    while (!batch.isEmpty() && batch.size() < batchSize && modelBusy.getAsBoolean()) {
      long remaining = deadline - System.nanoTime();
      if (remaining <= 0) {
        break;
      }
      try {
        batch.addAll(
            source.poll(
                batchSize - batch.size(),
                Duration.ofNanos(Math.min(remaining, LINGER_STEP_NANOS))));
      } catch (RuntimeException e) {
        LOG.warn("polling {} for more failed; going with {}: {}", name, batch.size(), e.toString());
        break;
      }
    }
    return batch;
  }
}
