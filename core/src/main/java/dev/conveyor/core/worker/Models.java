package dev.conveyor.core.worker;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.pipeline.Pipeline;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

  /**
   * Classifies requests that may name different models, as a stream engine's task does with what it
   * gathered: each model's share is one batch on a lease taken for it (so a version rolled out
   * meanwhile serves the next one), and the results come back one per request, in their order. A
   * request naming a model that cannot be had gets an error result with the reason's code.
   *
   * @throws ConveyorException when a model cannot be had for a reason that passes ({@linkplain
   *     ConveyorException#retriable() retriable}): the requests are not answered, to be tried again
   */
  default List<ClassifyResult> classify(List<ImageRequest> requests) {
    Map<String, List<Integer>> byModel = new LinkedHashMap<>();
    for (int i = 0; i < requests.size(); i++) {
      byModel.computeIfAbsent(requests.get(i).model(), m -> new ArrayList<>()).add(i);
    }
    ClassifyResult[] results = new ClassifyResult[requests.size()];
    for (Map.Entry<String, List<Integer>> group : byModel.entrySet()) {
      List<ImageRequest> share = group.getValue().stream().map(requests::get).toList();
      List<ClassifyResult> answers;
      try (Lease lease = lease(group.getKey())) {
        answers = lease.named(lease.pipeline().classify(share));
      } catch (ConveyorException e) {
        if (e.retriable()) {
          throw e;
        }
        answers = refused(share, e);
      }
      for (int k = 0; k < share.size(); k++) {
        results[group.getValue().get(k)] = answers.get(k);
      }
    }
    return Arrays.asList(results);
  }

  /**
   * The error results of requests whose model could not be had, each with the reason's code and its
   * time since it came.
   */
  static List<ClassifyResult> refused(List<ImageRequest> requests, ConveyorException e) {
    long now = System.nanoTime();
    return requests.stream()
        .map(
            r ->
                ClassifyResult.error(
                    r,
                    e.code(),
                    e.getMessage(),
                    HostName.get(),
                    r.enqueuedNanos() > 0 ? (now - r.enqueuedNanos()) / 1e6 : 0))
        .toList();
  }

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
