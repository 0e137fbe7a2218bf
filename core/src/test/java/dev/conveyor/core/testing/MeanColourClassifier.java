package dev.conveyor.core.testing;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.model.Classifier;
import dev.conveyor.core.model.ModelSpec;
import dev.conveyor.core.preprocess.Layout;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntPredicate;

/**
 * A classifier in plain Java for core's tests: the score of class c is the mean of channel c of an
 * NCHW RGB image, so an image is classified by its dominant colour. It can be told to fail on
 * chosen calls and records the batch sizes it saw.
 */
public final class MeanColourClassifier implements Classifier {
  private final ModelSpec spec;
  private final IntPredicate failOnCall;
  private final AtomicInteger calls = new AtomicInteger();
  private final List<Integer> batchSizes = new java.util.concurrent.CopyOnWriteArrayList<>();
  private volatile long delayMillis;
  private volatile boolean closed;
  private volatile double cpuMillisPerImage;

  public MeanColourClassifier(int height, int width, IntPredicate failOnCall) {
    this.spec =
        new ModelSpec(
            "mean-colour", Layout.NCHW, 3, height, width, 0, 3, List.of("red", "green", "blue"));
    this.failOnCall = failOnCall;
  }

  public MeanColourClassifier(int height, int width) {
    this(height, width, call -> false);
  }

  /** Makes every model call take at least this long, as a large model would. */
  public MeanColourClassifier slow(long millis) {
    this.delayMillis = millis;
    return this;
  }

  /**
   * Makes every image cost this much CPU time on the calling thread, spent computing, as a real
   * model spends it: a model of known CPU cost.
   */
  public MeanColourClassifier busy(double cpuMillisPerImage) {
    this.cpuMillisPerImage = cpuMillisPerImage;
    return this;
  }

  @Override
  public ModelSpec spec() {
    return spec;
  }

  @Override
  public void run(FloatBuffer input, int count, FloatBuffer output) {
    int call = calls.incrementAndGet();
    batchSizes.add(count);
    if (delayMillis > 0) {
      try {
        Thread.sleep(delayMillis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (cpuMillisPerImage > 0) {
      java.lang.management.ThreadMXBean threads =
          java.lang.management.ManagementFactory.getThreadMXBean();
      long until = threads.getCurrentThreadCpuTime() + (long) (cpuMillisPerImage * count * 1e6);
      double x = 1;
      while (threads.getCurrentThreadCpuTime() < until) {
        for (int i = 0; i < 1000; i++) {
          x = Math.sqrt(x + i);
        }
      }
      if (x < 0) {
        throw new AssertionError("unreachable: keeps the loop from being optimized away");
      }
    }
    if (failOnCall.test(call)) {
      throw new ConveyorException(
          ErrorCode.INFERENCE_FAILED, "failing on call " + call + " as told");
    }
    int pixels = spec.height() * spec.width();
    for (int n = 0; n < count; n++) {
      for (int c = 0; c < 3; c++) {
        double sum = 0;
        int base = (n * 3 + c) * pixels;
        for (int p = 0; p < pixels; p++) {
          sum += input.get(base + p);
        }
        output.put(n * 3 + c, (float) (sum / pixels));
      }
    }
  }

  public List<Integer> batchSizes() {
    return batchSizes;
  }

  /** Whether it has been closed. */
  public boolean closed() {
    return closed;
  }

  @Override
  public void close() {
    closed = true;
  }
}
