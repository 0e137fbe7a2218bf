package dev.conveyor.testing;

import java.time.Duration;

/** Waiting in tests on observed state, not on time. */
public final class Await {
  private Await() {}

  /** A condition to wait on, which may fail. */
  public interface Check {
    boolean met() throws Exception;
  }

  /**
   * Returns once {@code done} is met, looking every 50 ms.
   *
   * @throws AssertionError naming {@code what} when it is not met {@code within}
   */
  public static void until(Check done, Duration within, String what) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (!done.met()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("not within " + within.toSeconds() + " s: " + what);
      }
      Thread.sleep(50);
    }
  }
}
