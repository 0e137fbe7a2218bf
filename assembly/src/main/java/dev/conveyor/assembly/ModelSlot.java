package dev.conveyor.assembly;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.model.RepositoryIndex;
import dev.conveyor.core.pipeline.Pipeline;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One model of a {@link ModelSet}: the version serving it, the older ones still finishing their
 * batches, and its last failure to open a version. Its fields are guarded by its own lock, but for
 * {@link #serving}, {@link #lastUsed} and {@link #bytes}, which are read without it.
 */
final class ModelSlot {
  private static final Logger LOG = LoggerFactory.getLogger(ModelSet.class);

  final String name;
  private final List<Open> draining = new ArrayList<>();
  volatile Open serving;
  volatile long lastUsed;
  volatile long bytes;
  boolean rolling;

  /** Out of its set (unloaded, evicted, or a name without a model): serves nothing again. */
  boolean dropped;

  long failedVersion;
  String failure;

  ModelSlot(String name) {
    this.name = name;
  }

  /**
   * Serves {@code version} from now on; the version serving before finishes its batches and closes
   * with its last lease. Called holding the slot's lock.
   */
  void serve(long version, Pipeline pipeline, long fileBytes) {
    Open before = serving;
    serving = new Open(this, version, pipeline);
    bytes = fileBytes;
    failedVersion = 0;
    failure = null;
    if (before != null) {
      retire(before);
    }
  }

  /**
   * Opens the newest version of {@code model} with {@code open} and serves it, holding the slot's
   * lock.
   *
   * @return a lease on it
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} when it cannot be opened
   */
  ModelLease openNewest(
      RepositoryIndex.Model model, Function<RepositoryIndex.Version, Pipeline> open) {
    RepositoryIndex.Version newest = model.latest();
    try {
      serve(newest.number(), open.apply(newest), fileSize(newest));
    } catch (RuntimeException e) {
      failed(newest.number(), e);
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "model %s version %d cannot be served: %s".formatted(name, newest.number(), failure),
          e);
    }
    return serving.lease();
  }

  /**
   * Stops serving for good, once the slot is out of its set: the version serving finishes its
   * batches and closes with its last lease, and a caller about to open a version in this slot opens
   * none and looks the model up again.
   *
   * @return the version that served, or null
   */
  synchronized Open stop() {
    dropped = true;
    Open before = serving;
    serving = null;
    if (before != null) {
      retire(before);
    }
    return before;
  }

  private void retire(Open version) {
    draining.add(version);
    version.release();
  }

  /** Records, here and in the log, that {@code version} cannot be served. Holding the lock. */
  void failed(long version, RuntimeException e) {
    failedVersion = version;
    failure = e.getMessage();
    LOG.warn(
        "model {} version {} cannot be served, {}: {}",
        name,
        version,
        serving == null ? "and none serves" : "version " + serving.version + " still does",
        e.getMessage());
  }

  /** The slot as {@link ModelSet#states()} reports it. */
  synchronized ModelState state() {
    return new ModelState(
        name,
        serving == null ? 0 : serving.version,
        draining.stream().map(o -> o.version).toList(),
        failedVersion,
        failure);
  }

  /**
   * An open version: closed when it no longer serves and its last lease is given back. Its count
   * holds one for serving, and one per lease out.
   */
  static final class Open {
    final ModelSlot slot;
    final long version;
    final Pipeline pipeline;
    private final AtomicInteger holds = new AtomicInteger(1);

    Open(ModelSlot slot, long version, Pipeline pipeline) {
      this.slot = slot;
      this.version = version;
      this.pipeline = pipeline;
    }

    /** A lease, for the slot's serving version (which holds it open). */
    ModelLease lease() {
      holds.incrementAndGet();
      return new ModelLease(this);
    }

    /** A lease, unless this version has closed meanwhile. */
    ModelLease tryLease() {
      for (int h = holds.get(); h > 0; h = holds.get()) {
        if (holds.compareAndSet(h, h + 1)) {
          return new ModelLease(this);
        }
      }
      return null;
    }

    void release() {
      if (holds.decrementAndGet() == 0) {
        pipeline.close();
        synchronized (slot) {
          slot.draining.remove(this);
        }
        LOG.info("model {} version {} closed", slot.name, version);
      }
    }
  }

  /**
   * Rolls on to {@code version}, opened by {@code open} while the serving version goes on taking
   * batches, unless the slot serves none, serves it already, failed to open it, or is rolling now.
   */
  void rollTo(long version, java.util.function.Supplier<Pipeline> open, long fileBytes) {
    Open before;
    synchronized (this) {
      before = serving;
      if (before == null || rolling || before.version == version || failedVersion == version) {
        return;
      }
      rolling = true;
    }
    Pipeline next = null;
    RuntimeException failure = null;
    try {
      next = open.get();
    } catch (RuntimeException e) {
      failure = e;
    }
    synchronized (this) {
      rolling = false;
      if (failure != null) {
        failed(version, failure);
      } else if (serving != before) {
        next.close(); // stopped meanwhile
      } else {
        serve(version, next, fileBytes);
        LOG.info(
            "model {}: version {} serves new batches; version {} closes once idle",
            name,
            version,
            before.version);
      }
    }
  }

  /** The size of a version's file; 0 when it cannot be read. */
  static long fileSize(RepositoryIndex.Version version) {
    try {
      return java.nio.file.Files.size(version.file());
    } catch (java.io.IOException e) {
      return 0;
    }
  }

  /**
   * {@code pipeline} after one batch of zeros through its model, so that the first real batch does
   * not pay its start; closed if that fails.
   *
   * @throws RuntimeException why it cannot be served
   */
  static Pipeline warmed(Pipeline pipeline) {
    try {
      int n = pipeline.batchSize();
      dev.conveyor.core.batch.Batch batch = pipeline.newBatch(n);
      pipeline.classifier().run(batch.input(), n, batch.output());
      return pipeline;
    } catch (RuntimeException e) {
      pipeline.close();
      throw e;
    }
  }
}
