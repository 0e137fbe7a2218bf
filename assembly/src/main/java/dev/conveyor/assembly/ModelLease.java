package dev.conveyor.assembly;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.worker.Models;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A version of a {@link ModelSet}'s model lent for a batch; closing gives it back (once; again does
 * nothing).
 */
public final class ModelLease implements Models.Lease {
  private final ModelSlot.Open version;
  private final AtomicBoolean given = new AtomicBoolean();

  ModelLease(ModelSlot.Open version) {
    this.version = version;
  }

  public String name() {
    return version.slot.name;
  }

  public long version() {
    return version.version;
  }

  @Override
  public Pipeline pipeline() {
    return version.pipeline;
  }

  /** The results of a batch this version ran, each naming the model and the version. */
  @Override
  public List<ClassifyResult> named(List<ClassifyResult> results) {
    return results.stream().map(r -> r.madeBy(name(), version())).toList();
  }

  @Override
  public void close() {
    if (given.compareAndSet(false, true)) {
      version.release();
    }
  }
}
