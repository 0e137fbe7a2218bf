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
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Results of a stream of requests, in order, the next batch prepared on other threads while the
 * model runs the current one, as a worker's threads do. The requests are read on the calling thread
 * only, a batch at a time, so at most two batches are held. Made by {@link Pipeline#classify(
 * Iterator, Executor)}.
 */
final class Overlapped implements Iterator<ClassifyResult> {
  private final Pipeline pipeline;
  private final Iterator<ImageRequest> requests;
  private final Executor preparers;
  private final ArrayDeque<Prepared> inFlight = new ArrayDeque<>(2);
  private final ArrayDeque<ClassifyResult> ready = new ArrayDeque<>();

  private record Prepared(Batch batch, CompletableFuture<Void> done) {}

  Overlapped(Pipeline pipeline, Iterator<ImageRequest> requests, Executor preparers) {
    this.pipeline = pipeline;
    this.requests = requests;
    this.preparers = preparers;
  }

  @Override
  public boolean hasNext() {
    if (ready.isEmpty()) {
      fill();
      Prepared head = inFlight.poll();
      if (head != null) {
        fill();
        head.done.join();
        try {
          ready.addAll(pipeline.finish(head.batch));
        } catch (ConveyorException e) {
          ready.addAll(pipeline.failAll(head.batch, e));
        } finally {
          pipeline.giveBack(head.batch);
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

  /** Starts preparing batches until two are in flight or the requests run out. */
  private void fill() {
    while (inFlight.size() < 2 && requests.hasNext()) {
      List<ImageRequest> chunk = new ArrayList<>(pipeline.batchSize());
      while (chunk.size() < pipeline.batchSize() && requests.hasNext()) {
        chunk.add(requests.next());
      }
      Batch batch = pipeline.borrow();
      pipeline.begin(batch, chunk);
      Prepared p = new Prepared(batch, new CompletableFuture<>());
      for (int i = 0; i < chunk.size(); i++) {
        int slot = i;
        Runnable task =
            () -> {
              if (pipeline.prepare(p.batch, slot)) {
                p.done.complete(null);
              }
            };
        try {
          preparers.execute(task);
        } catch (RejectedExecutionException e) {
          task.run();
        }
      }
      inFlight.add(p);
    }
  }
}
