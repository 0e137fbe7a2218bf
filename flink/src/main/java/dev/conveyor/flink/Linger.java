package dev.conveyor.flink;

import java.io.IOException;
import java.util.concurrent.ScheduledFuture;
import org.apache.flink.api.common.operators.ProcessingTimeService;

/**
 * A sink writer's linger: one processing-time timer, started by the first result held and run on
 * the task's thread (its mailbox), so the writer needs no lock.
 */
final class Linger {
  /** What the timer does: write what the writer holds. */
  interface Action {
    void run() throws IOException;
  }

  private final ProcessingTimeService time;
  private final long millis;
  private final Action action;
  private ScheduledFuture<?> timer;

  Linger(ProcessingTimeService time, long millis, Action action) {
    this.time = time;
    this.millis = millis;
    this.action = action;
  }

  /** Starts the timer unless it runs already. */
  void start() {
    if (timer == null) {
      timer =
          time.registerTimer(
              time.getCurrentProcessingTime() + millis,
              at -> {
                timer = null;
                action.run();
              });
    }
  }

  void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}
