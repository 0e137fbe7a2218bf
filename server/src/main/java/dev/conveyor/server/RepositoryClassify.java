package dev.conveyor.server;

import dev.conveyor.assembly.ModelSet;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.worker.WorkerListener;
import java.util.concurrent.CompletableFuture;

/**
 * A server in front of a model repository's models: requests go where {@code delegate} sends them,
 * each naming its model; the server's own model is the repository's default one.
 */
final class RepositoryClassify implements Classify {
  private final Classify delegate;
  private final ModelSet models;

  RepositoryClassify(Classify delegate, ModelSet models) {
    this.delegate = delegate;
    this.models = models;
  }

  @Override
  public java.util.Optional<ModelSet> repository() {
    return java.util.Optional.of(models);
  }

  @Override
  public java.util.List<String> versions(String name) {
    return models.repository().index().model(name).stream()
        .flatMap(m -> m.versions().stream())
        .map(v -> Long.toString(v.number()))
        .toList();
  }

  @Override
  public boolean serves(String name) {
    return models.has(name);
  }

  @Override
  public int[] tensorShape(String name) {
    try (dev.conveyor.assembly.ModelLease lease = models.lease(name)) {
      return lease.pipeline().preprocessor().spec().shape();
    }
  }

  @Override
  public CompletableFuture<ClassifyResult> submit(ImageRequest request) {
    return delegate.submit(request);
  }

  @Override
  public String model() {
    return delegate.model();
  }

  @Override
  public String transport() {
    return delegate.transport();
  }

  @Override
  public int top() {
    return delegate.top();
  }

  @Override
  public int[] tensorShape() {
    return delegate.tensorShape();
  }

  @Override
  public boolean live() {
    return delegate.live();
  }

  @Override
  public int queueDepth() {
    return delegate.queueDepth();
  }

  @Override
  public int queueCapacity() {
    return delegate.queueCapacity();
  }

  @Override
  public void onBatch(WorkerListener listener) {
    delegate.onBatch(listener);
  }
}
