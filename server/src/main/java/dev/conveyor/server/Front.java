package dev.conveyor.server;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.worker.WorkerListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;

/**
 * The server's front to the pipeline: hands requests to {@link Classify} and reports each one to
 * the listener, which is the only way the dashboard and the metrics learn of it. Every request is
 * reported {@code submitted}, then exactly once either {@code result} or {@code refused} with its
 * code: {@code BUSY} when it does not fit, {@code TIMEOUT} when its caller stopped waiting (a
 * result that comes after that is answered to no one and not reported), {@code UNAVAILABLE} (or the
 * pipeline's own code) when the pipeline failed it.
 */
final class Front {
  private final Classify classify;
  private final WorkerListener events;
  private final Duration timeout;
  private final Deadlines deadlines;

  Front(Classify classify, WorkerListener events, Duration timeout, Deadlines deadlines) {
    this.classify = classify;
    this.events = events;
    this.timeout = timeout;
    this.deadlines = deadlines;
  }

  /**
   * The model a call names with {@code ?model=NAME}, or {@code null} for the default one.
   *
   * @throws ConveyorException {@code UNKNOWN_MODEL} for a model this server does not serve
   */
  String model(io.javalin.http.Context ctx) {
    return ModelParam.of(ctx, classify);
  }

  /**
   * The result of one image, failing with {@code TIMEOUT} when it does not come in time.
   *
   * @throws ConveyorException {@code BUSY} (or another refusal) when the pipeline does not take it
   */
  CompletableFuture<ClassifyResult> classify(ImageRequest request) {
    return send(request, true);
  }

  /** The results of several images in their order; one failure (a timeout) fails them all. */
  CompletableFuture<List<ClassifyResult>> classifyAll(List<ImageRequest> requests) {
    List<CompletableFuture<ClassifyResult>> futures = new ArrayList<>();
    for (ImageRequest r : requests) {
      futures.add(send(r, true));
    }
    return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new))
        .thenApply(done -> futures.stream().map(CompletableFuture::join).toList());
  }

  /** The result of one image, however long it takes: an asynchronous job's. */
  CompletableFuture<ClassifyResult> classifyUnbounded(ImageRequest request) {
    return send(request, false);
  }

  private CompletableFuture<ClassifyResult> send(ImageRequest request, boolean bounded) {
    long start = System.nanoTime();
    events.submitted(request);
    CompletableFuture<ClassifyResult> sent;
    try {
      sent = classify.submit(request);
    } catch (ConveyorException e) {
      events.refused(request, e.code());
      throw e;
    }
    // timing out ends this caller's wait, not the pipeline's own future
    CompletableFuture<ClassifyResult> waited = bounded ? deadlines.bound(sent) : sent;
    return waited.handle(
        (result, failure) -> {
          if (result != null) {
            events.result(request, result, System.nanoTime() - start);
            return result;
          }
          ConveyorException e = why(failure);
          events.refused(request, e.code());
          throw e;
        });
  }

  private ConveyorException why(Throwable failure) {
    Throwable t =
        failure instanceof CompletionException && failure.getCause() != null
            ? failure.getCause()
            : failure;
    if (t instanceof ConveyorException known) {
      return known;
    }
    if (t instanceof TimeoutException) {
      return new ConveyorException(
          ErrorCode.TIMEOUT, "no result within " + timeout.toMillis() / 1000.0 + " s");
    }
    return new ConveyorException(
        ErrorCode.UNAVAILABLE, "classification stopped: " + t.getMessage(), t);
  }
}
