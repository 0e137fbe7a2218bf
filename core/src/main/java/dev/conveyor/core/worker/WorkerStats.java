package dev.conveyor.core.worker;

import dev.conveyor.core.ClassifyResult;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;

/** Counters a worker keeps: results, errors, batches and time in the model. */
public final class WorkerStats {
  private final LongAdder ok = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final LongAdder batches = new LongAdder();
  private final LongAdder batchedImages = new LongAdder();
  private final LongAdder modelNanos = new LongAdder();
  private final LongAdder inferenceFailures = new LongAdder();
  private final List<BatchListener> listeners = new CopyOnWriteArrayList<>();

  /** Told of every model call, on the inference thread: keep it quick. */
  public interface BatchListener {
    void batch(int images, long modelNanos);
  }

  /** Adds a listener told of every batch from now on (e.g. to feed a histogram). */
  public void addBatchListener(BatchListener listener) {
    listeners.add(listener);
  }

  void recordBatch(int images, long nanos) {
    batches.increment();
    batchedImages.add(images);
    modelNanos.add(nanos);
    for (BatchListener l : listeners) {
      l.batch(images, nanos);
    }
  }

  void recordInferenceFailure() {
    inferenceFailures.increment();
  }

  void recordResults(List<ClassifyResult> results) {
    for (ClassifyResult r : results) {
      (r.isOk() ? ok : errors).increment();
    }
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
