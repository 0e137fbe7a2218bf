package dev.conveyor.core.worker;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** Hands every event on to the listeners added to it, in the order they were added. */
public final class WorkerEvents implements WorkerListener {
  private final List<WorkerListener> listeners = new CopyOnWriteArrayList<>();

  /** Adds a listener told of every event from now on. */
  public WorkerEvents add(WorkerListener listener) {
    listeners.add(listener);
    return this;
  }

  @Override
  public void submitted(ImageRequest request) {
    for (WorkerListener l : listeners) {
      l.submitted(request);
    }
  }

  @Override
  public void refused(ImageRequest request, ErrorCode code) {
    for (WorkerListener l : listeners) {
      l.refused(request, code);
    }
  }

  @Override
  public void batch(int images, long modelNanos) {
    for (WorkerListener l : listeners) {
      l.batch(images, modelNanos);
    }
  }

  @Override
  public void batchFailed(int images) {
    for (WorkerListener l : listeners) {
      l.batchFailed(images);
    }
  }

  @Override
  public void result(ImageRequest request, ClassifyResult result, long nanos) {
    for (WorkerListener l : listeners) {
      l.result(request, result, nanos);
    }
  }
}
