package dev.conveyor.server;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Replies;
import dev.conveyor.core.worker.HostName;
import dev.conveyor.core.worker.Worker;
import dev.conveyor.core.worker.WorkerListener;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server's requests through a broker (seed 003's pattern, without polling): each request is
 * sent with this server's reply address, and one reader thread hands each result that comes back to
 * the caller waiting for it. At most {@code capacity} requests wait at once; more are BUSY. Workers
 * may be anywhere; those started in this process are given for their batch statistics.
 */
public final class BrokerClassify implements Classify, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(BrokerClassify.class);
  private static final Duration SEND_WAIT = Duration.ofSeconds(1);

  private record Pending(
      ImageRequest request, CompletableFuture<ClassifyResult> result, long deadline) {}

  private final Replies client;
  private final String describe;
  private final String model;
  private final int top;
  private final int capacity;
  private final Duration expireAfter;
  private final List<Worker> workers;
  private final int[] tensorShape;
  private final Map<String, Pending> pending = new ConcurrentHashMap<>();
  private final Thread reader;
  private volatile boolean running = true;

  /**
   * @param expireAfter how long a request waits for its result before it is answered TIMEOUT (its
   *     result, if it comes later, is dropped)
   * @param tensorShape one image's tensor as the model takes it, or {@code null} when this server
   *     has not loaded the model
   */
  public BrokerClassify(
      Replies client,
      String describe,
      String model,
      int top,
      int capacity,
      Duration expireAfter,
      List<Worker> workers,
      int[] tensorShape) {
    this.tensorShape = tensorShape;
    this.client = client;
    this.describe = describe;
    this.model = model;
    this.top = top;
    this.capacity = capacity;
    this.expireAfter = expireAfter;
    this.workers = List.copyOf(workers);
    this.reader = new Thread(this::read, "conveyor-results");
    reader.setDaemon(true);
    reader.start();
  }

  @Override
  public CompletableFuture<ClassifyResult> submit(ImageRequest request) {
    if (pending.size() >= capacity) {
      throw new ConveyorException(
          ErrorCode.BUSY, capacity + " requests are waiting for workers; try again shortly");
    }
    CompletableFuture<ClassifyResult> result = new CompletableFuture<>();
    pending.put(
        request.id(), new Pending(request, result, System.nanoTime() + expireAfter.toNanos()));
    try {
      client.send(request, SEND_WAIT);
    } catch (ConveyorException e) {
      pending.remove(request.id());
      throw e;
    } catch (InterruptedException e) {
      pending.remove(request.id());
      Thread.currentThread().interrupt();
      throw new ConveyorException(ErrorCode.BUSY, "interrupted while sending");
    } catch (RuntimeException e) {
      // the broker's client failed (a command timed out, the connection is down): it is away
      pending.remove(request.id());
      LOG.warn("sending a request to {}: {}", describe, e.toString());
      throw new ConveyorException(
          ErrorCode.UNAVAILABLE, "the broker did not take the request; try again shortly", e);
    }
    return result;
  }

  private void read() {
    while (running) {
      try {
        client.poll(
            r -> {
              Pending p = pending.remove(r.id());
              if (p != null) {
                p.result.complete(r);
              }
            });
      } catch (RuntimeException e) {
        if (running) {
          LOG.warn("reading results: {}; trying again", e.toString());
          sleep();
        }
      }
      expire();
    }
  }

  private void expire() {
    long now = System.nanoTime();
    for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
      Pending p = it.next();
      if (now - p.deadline > 0) {
        it.remove();
        p.result.complete(
            ClassifyResult.error(
                p.request,
                ErrorCode.TIMEOUT,
                "no worker answered within " + expireAfter.toSeconds() + " s",
                HostName.get(),
                expireAfter.toMillis()));
      }
    }
  }

  private static void sleep() {
    try {
      Thread.sleep(500);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String model() {
    return model;
  }

  @Override
  public String transport() {
    return describe;
  }

  @Override
  public int top() {
    return top;
  }

  @Override
  public int[] tensorShape() {
    return tensorShape;
  }

  @Override
  public int queueDepth() {
    return pending.size();
  }

  @Override
  public boolean live() {
    return reader.isAlive() && workers.stream().allMatch(Worker::alive);
  }

  @Override
  public int queueCapacity() {
    return capacity;
  }

  @Override
  public void onBatch(WorkerListener listener) {
    WorkerBatches.forward(workers, listener);
  }

  @Override
  public void close() {
    running = false;
    try {
      reader.join(2_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    client.close();
    pending.values().forEach(p -> p.result.cancel(false));
  }
}
