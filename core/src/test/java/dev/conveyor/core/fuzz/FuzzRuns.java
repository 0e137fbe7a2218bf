package dev.conveyor.core.fuzz;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Counts the inputs a fuzz target ran, for its report: each target adds one per input and prints
 * the total when its class is done ({@code fuzz FuzzTestClass: N inputs}).
 */
public final class FuzzRuns {
  private final String target;
  private final AtomicLong inputs = new AtomicLong();

  public FuzzRuns(Class<?> target) {
    this.target = target.getSimpleName();
  }

  public void ran() {
    inputs.incrementAndGet();
  }

  public void report() {
    System.out.printf("fuzz %s: %d inputs%n", target, inputs.get());
  }
}
