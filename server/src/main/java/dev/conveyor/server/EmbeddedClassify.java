package dev.conveyor.server;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.EmbeddedTransport;
import dev.conveyor.core.worker.Worker;
import dev.conveyor.core.worker.WorkerListener;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** Workers in this process on the embedded transport: {@code conveyor serve}'s default. */
public final class EmbeddedClassify implements Classify {
  private final EmbeddedTransport transport;
  private final List<Worker> workers;
  private final String model;
  private final int top;
  private final int[] tensorShape;

  public EmbeddedClassify(
      EmbeddedTransport transport, List<Worker> workers, String model, int top) {
    this(transport, workers, model, top, null);
  }

  /**
   * @param tensorShape one image's tensor as the model takes it, for the KServe v2 metadata
   */
  public EmbeddedClassify(
      EmbeddedTransport transport, List<Worker> workers, String model, int top, int[] tensorShape) {
    this.transport = transport;
    this.workers = List.copyOf(workers);
    this.model = model;
    this.top = top;
    this.tensorShape = tensorShape;
  }

  @Override
  public int[] tensorShape() {
    return tensorShape;
  }

  @Override
  public boolean live() {
    return workers.stream().allMatch(Worker::alive);
  }

  @Override
  public CompletableFuture<ClassifyResult> submit(ImageRequest request) {
    return transport.submit(request);
  }

  @Override
  public String model() {
    return model;
  }

  @Override
  public String transport() {
    return "embedded";
  }

  @Override
  public int top() {
    return top;
  }

  @Override
  public int queueDepth() {
    return transport.depth();
  }

  @Override
  public int queueCapacity() {
    return transport.capacity();
  }

  @Override
  public void onBatch(WorkerListener listener) {
    WorkerBatches.forward(workers, listener);
  }
}
