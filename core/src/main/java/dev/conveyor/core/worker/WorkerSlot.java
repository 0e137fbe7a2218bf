package dev.conveyor.core.worker;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.batch.Batch;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.transport.Delivery;
import java.util.List;

/**
 * One of a worker's batches in flight: its buffers, the deliveries it holds now and the model they
 * run on; or, when no model could be had for them, their error results or why they go back to the
 * transport.
 */
final class WorkerSlot {
  Batch batch;
  Pipeline madeFor;
  List<Delivery> deliveries = List.of();
  Models.Lease lease;
  List<ClassifyResult> refused;
  String releaseReason;

  /** The buffers for a batch on {@code pipeline}: this slot's, made again for another model. */
  Batch batchFor(Pipeline pipeline, int capacity) {
    if (madeFor != pipeline) {
      batch = pipeline.newBatch(capacity);
      madeFor = pipeline;
    }
    return batch;
  }

  void clear() {
    deliveries = List.of();
    lease = null;
    refused = null;
    releaseReason = null;
  }
}
