package dev.conveyor.core.worker;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;

/**
 * Told what happens in a pipeline: the one path by which counters, Prometheus metrics and the web
 * page's dashboard learn of requests, model calls and results. Workers report model calls; whatever
 * accepts requests (the HTTP server, a producer) reports what it accepted, refused and got back.
 * Every method has an empty default; calls come on pipeline threads, so keep them quick.
 */
public interface WorkerListener {

  /** A request was accepted for classification. */
  default void submitted(ImageRequest request) {}

  /**
   * A request ended without a result: refused before any worker saw it ({@code BUSY}), or given up
   * on by its caller ({@code TIMEOUT}) or the pipeline ({@code UNAVAILABLE}). Each submitted
   * request ends once: with this, or with {@link #result}.
   */
  default void refused(ImageRequest request, ErrorCode code) {}

  /** The model ran on {@code images} images in {@code modelNanos}. */
  default void batch(int images, long modelNanos) {}

  /** The model failed on a batch of {@code images}; the batch goes back for redelivery. */
  default void batchFailed(int images) {}

  /** A result is stored or handed back, {@code nanos} after the request was accepted. */
  default void result(ImageRequest request, ClassifyResult result, long nanos) {}
}
