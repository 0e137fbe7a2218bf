package dev.conveyor.core.pipeline;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.batch.Batch;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Results of a stream of requests, in order, as a worker's threads give them: the model runs a
 * batch on one of the preparing threads while others prepare the next, and the calling thread,
 * meanwhile, reads the requests that follow and hands on the results before. The requests are read
 * on the calling thread only, a batch at a time, so at most three batches are held: one being read
 * out, one in the model, one being prepared. The model runs the batches one after another, in
 * order. Made by {@link Pipeline#classify(Iterator, Executor)}.
 */
final class Overlapped implements Iterator<ClassifyResult> {
  private static final int HELD = 3;
  private final Pipeline pipeline;
  private final Iterator<ImageRequest> requests;
  private final Executor preparers;
  private final ArrayDeque<CompletableFuture<List<ClassifyResult>>> inFlight =
      new ArrayDeque<>(HELD);
  private final ArrayDeque<ClassifyResult> ready = new ArrayDeque<>();
  private CompletableFuture<?> lastRun = CompletableFuture.completedFuture(null);

  Overlapped(Pipeline pipeline, Iterator<ImageRequest> requests, Executor preparers) {
    this.pipeline = pipeline;
    this.requests = requests;
    // a pool that is shut down runs its work on the thread that hands it over
    this.preparers =
        task -> {
          try {
            preparers.execute(task);
          } catch (RejectedExecutionException e) {
            task.run();
          }
        };
  }

  @Override
  public boolean hasNext() {
    if (ready.isEmpty()) {
      fill();
      CompletableFuture<List<ClassifyResult>> head = inFlight.poll();
      if (head != null) {
        fill();
        try {
          ready.addAll(head.join());
        } catch (CompletionException e) {
          // what the model threw, as though it had run here
          if (e.getCause() instanceof RuntimeException r) {
            throw r;
          }
          if (e.getCause() instanceof Error r) {
            throw r;
          }
          throw e;
        }
      }
    }
    return !ready.isEmpty();
  }

  @Override
  public ClassifyResult next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return ready.poll();
  }

  /**
   * Starts preparing batches until {@link #HELD} are in flight or the requests run out; each runs
   * through the model once it is prepared and the batch before it has run.
   */
  private void fill() {
    while (inFlight.size() < HELD && requests.hasNext()) {
      List<ImageRequest> chunk = new ArrayList<>(pipeline.batchSize());
      while (chunk.size() < pipeline.batchSize() && requests.hasNext()) {
        chunk.add(requests.next());
      }
      Batch batch = pipeline.borrow();
      pipeline.begin(batch, chunk);
      CompletableFuture<Void> prepared = new CompletableFuture<>();
      for (int i = 0; i < chunk.size(); i++) {
        int slot = i;
        preparers.execute(
            () -> {
              if (pipeline.prepare(batch, slot)) {
                prepared.complete(null);
              }
            });
      }
      CompletableFuture<List<ClassifyResult>> results =
          CompletableFuture.allOf(prepared, lastRun).thenApplyAsync(v -> run(batch), preparers);
      lastRun = results;
      inFlight.add(results);
    }
  }

  private List<ClassifyResult> run(Batch batch) {
    try {
      return pipeline.finish(batch);
    } catch (ConveyorException e) {
      return pipeline.failAll(batch, e);
    } finally {
      pipeline.giveBack(batch);
    }
  }
}
