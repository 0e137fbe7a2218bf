package dev.conveyor.assembly;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Work done every so often on a daemon thread of its own, such as reading a model repository. */
final class Periodic {
  private static final Logger LOG = LoggerFactory.getLogger(Periodic.class);

  private Periodic() {}

  /**
   * Runs {@code task} every {@code period}, logging a failure as {@code what} failed (it runs again
   * at the next turn), until the executor returned is shut down.
   */
  static ScheduledExecutorService every(Duration period, Runnable task, String what) {
    ScheduledExecutorService s =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "conveyor-models");
              t.setDaemon(true);
              return t;
            });
    long ms = period.toMillis();
    s.scheduleWithFixedDelay(
        () -> {
          try {
            task.run();
          } catch (RuntimeException e) {
            LOG.warn("{} failed: {}", what, e.toString());
          }
        },
        ms,
        ms,
        TimeUnit.MILLISECONDS);
    return s;
  }
}
