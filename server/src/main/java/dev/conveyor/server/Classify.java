package dev.conveyor.server;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.worker.WorkerListener;
import java.util.concurrent.CompletableFuture;

/**
 * What the server needs of the pipeline behind it: workers in this process on the embedded
 * transport, or a broker that workers elsewhere take requests from.
 */
public interface Classify {
  /**
   * Hands a request to the workers.
   *
   * @throws dev.conveyor.core.ConveyorException {@code BUSY} when no more requests fit
   */
  CompletableFuture<ClassifyResult> submit(ImageRequest request);

  /** The model's name, for the health and model endpoints: the default one, when several. */
  String model();

  /** Whether a request may name {@code name}: the model, or one of a repository's. */
  default boolean serves(String name) {
    return model().equals(name);
  }

  /** The model repository served, when there is one: what KServe's repository routes act on. */
  default java.util.Optional<dev.conveyor.assembly.ModelSet> repository() {
    return java.util.Optional.empty();
  }

  /** The versions of the model named {@code name}, which {@link #serves} it, oldest first. */
  default java.util.List<String> versions(String name) {
    return java.util.List.of("1");
  }

  /** {@link #tensorShape()} of the model named {@code name}, which {@link #serves} it. */
  default int[] tensorShape(String name) {
    return tensorShape();
  }

  /** Where requests go, for people: {@code embedded}, or the broker's address. */
  String transport();

  /** Predictions per result. */
  int top();

  /**
   * The shape of one image's tensor as the model takes it ({@code [C, H, W]} or {@code [H, W, C]}),
   * or {@code null} when this server has not loaded the model.
   */
  default int[] tensorShape() {
    return null;
  }

  /**
   * Whether requests can still be answered: the threads that take and answer them are alive. {@code
   * /v2/health/live} answers 503 when not, so that a supervisor restarts the process.
   */
  default boolean live() {
    return true;
  }

  /** Requests waiting for a worker now; with a broker, this server's requests not yet answered. */
  int queueDepth();

  /** The most requests that may wait at once (more get 429). */
  int queueCapacity();

  /**
   * Has {@code listener} told of every model call ({@link WorkerListener#batch}) of the workers in
   * this process; workers elsewhere are not seen. Requests and results are the server's to report.
   */
  void onBatch(WorkerListener listener);
}
