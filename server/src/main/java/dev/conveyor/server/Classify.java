package dev.conveyor.server;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import java.util.concurrent.CompletableFuture;

/** What the server needs of the pipeline behind it. */
public interface Classify {
  /**
   * Hands a request to the workers.
   *
   * @throws dev.conveyor.core.ConveyorException {@code BUSY} when no more requests fit
   */
  CompletableFuture<ClassifyResult> submit(ImageRequest request);

  /** The model's name, for the health and model endpoints. */
  String model();
}
