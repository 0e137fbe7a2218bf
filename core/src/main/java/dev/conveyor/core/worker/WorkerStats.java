package dev.conveyor.core.worker;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import java.util.concurrent.atomic.LongAdder;

/** Counters of a worker's events: results, errors, batches and time in the model. */
public final class WorkerStats implements WorkerListener {
  private final LongAdder ok = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final LongAdder batches = new LongAdder();
  private final LongAdder batchedImages = new LongAdder();
  private final LongAdder modelNanos = new LongAdder();
  private final LongAdder inferenceFailures = new LongAdder();

  @Override
  public void batch(int images, long nanos) {
    batches.increment();
    batchedImages.add(images);
    modelNanos.add(nanos);
  }

  @Override
  public void batchFailed(int images) {
    inferenceFailures.increment();
  }

  @Override
  public void result(ImageRequest request, ClassifyResult result, long nanos) {
    (result.isOk() ? ok : errors).increment();
  }

  public long ok() {
    return ok.sum();
  }

  public long errors() {
    return errors.sum();
  }

  public long batches() {
    return batches.sum();
  }

  public long inferenceFailures() {
    return inferenceFailures.sum();
  }

  /** Images that reached the model. */
  public long batchedImages() {
    return batchedImages.sum();
  }

  /** Mean images per model call. */
  public double meanBatchSize() {
    long b = batches.sum();
    return b == 0 ? 0 : (double) batchedImages.sum() / b;
  }

  /** Seconds spent inside the model. */
  public double modelSeconds() {
    return modelNanos.sum() / 1e9;
  }
}
