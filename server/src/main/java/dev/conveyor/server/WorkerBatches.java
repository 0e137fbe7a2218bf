package dev.conveyor.server;

import dev.conveyor.core.worker.Worker;
import dev.conveyor.core.worker.WorkerListener;
import java.util.List;

/**
 * Tells a listener of the model calls of workers in this process, and of nothing else of theirs.
 */
final class WorkerBatches {
  private WorkerBatches() {}

  static void forward(List<Worker> workers, WorkerListener listener) {
    WorkerListener batches =
        new WorkerListener() {
          @Override
          public void batch(int images, long modelNanos) {
            listener.batch(images, modelNanos);
          }
        };
    for (Worker w : workers) {
      w.listen(batches);
    }
  }
}
