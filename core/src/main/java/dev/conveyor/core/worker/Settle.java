package dev.conveyor.core.worker;

import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.Transport;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acknowledges or releases a worker's batches, retrying with backoff while the broker is away (for
 * at most {@link #PATIENCE}): a batch left unsettled would be neither redelivered nor done.
 */
final class Settle {
  private static final Logger LOG = LoggerFactory.getLogger(Settle.class);
  private static final Duration PATIENCE = Duration.ofMinutes(1);
  private static final long MAX_BACKOFF_MILLIS = 5_000;

  private final Transport transport;

  Settle(Transport transport) {
    this.transport = transport;
  }

  /** The next wait after a failure: doubling from 100 ms up to 5 s. */
  static long nextBackoff(long previousMillis) {
    return Math.min(MAX_BACKOFF_MILLIS, Math.max(100, previousMillis * 2));
  }

  void ack(List<Delivery> deliveries) {
    retry("acknowledging", () -> transport.ack(deliveries));
  }

  void release(List<Delivery> deliveries, String reason) {
    retry("releasing", () -> transport.release(deliveries, reason));
  }

  private void retry(String what, Runnable action) {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    long backoffMillis = 0;
    while (true) {
      try {
        action.run();
        return;
      } catch (RuntimeException e) {
        if (System.nanoTime() > deadline) {
          LOG.error(
              "{} a batch with {} failed for {}; giving up",
              what,
              transport.describe(),
              PATIENCE,
              e);
          return;
        }
        backoffMillis = nextBackoff(backoffMillis);
        LOG.warn(
            "{} a batch with {} failed, retrying in {} ms: {}",
            what,
            transport.describe(),
            backoffMillis,
            e.toString());
        try {
          Thread.sleep(backoffMillis);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }
}
