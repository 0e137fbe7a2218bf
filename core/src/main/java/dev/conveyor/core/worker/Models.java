package dev.conveyor.core.worker;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.pipeline.Pipeline;
import java.util.List;

/**
 * The models a worker serves: one pipeline, or a repository's models by name. For each batch the
 * worker takes a {@link Lease} on the model its requests name and gives it back once the batch's
 * results are delivered, so that a model rolled on to a new version meanwhile finishes that batch
 * on the old one.
 */
public interface Models {
  /**
   * The model to run a batch of requests naming {@code name} on.
   *
   * @param name the model the requests name, or {@code null} for the default
   * @throws ConveyorException {@code UNKNOWN_MODEL} when no model of that name is served, or the
   *     failure to open it
   */
  Lease lease(String name);

  /** What is served, for logs: a model's name, or a repository's folder. */
  String describe();

  /** A model lent for one batch; closing gives it back. */
  interface Lease extends AutoCloseable {
    Pipeline pipeline();

    /** The batch's results as this model names them (its version, where it has one). */
    List<ClassifyResult> named(List<ClassifyResult> results);

    @Override
    void close();
  }

  /**
   * One pipeline, served by default and under its model's name; a request naming any other model
   * gets {@code UNKNOWN_MODEL}.
   */
  static Models of(Pipeline pipeline) {
    Lease lease =
        new Lease() {
          @Override
          public Pipeline pipeline() {
            return pipeline;
          }

          @Override
          public List<ClassifyResult> named(List<ClassifyResult> results) {
            return results;
          }

          @Override
          public void close() {}
        };
    return new Models() {
      @Override
      public Lease lease(String name) {
        if (name != null && !name.equals(pipeline.model().name())) {
          throw new ConveyorException(
              ErrorCode.UNKNOWN_MODEL, "this worker serves one model, not the one named");
        }
        return lease;
      }

      @Override
      public String describe() {
        return "model " + pipeline.model().name();
      }
    };
  }
}
