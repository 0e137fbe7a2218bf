package dev.conveyor.core.worker;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.batch.Batch;
import dev.conveyor.core.batch.Batcher;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives a {@link Pipeline} over a transport: takes batches, preprocesses their images on a thread
 * pool while the model runs the previous batch, and delivers one result per request to the sink,
 * acknowledging a batch only after its results are stored. It is the one place that batches: a
 * batch lingers for more requests only while earlier batches hold the model, so a lone request to
 * an idle worker starts at once and batches grow under load. A request that failed with a retriable
 * error, or whose batch the model failed on, goes back to the transport for redelivery.
 */
public final class Worker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Worker.class);

  /** How long one poll waits for a first request, so that a stop is noticed quickly. */
  static final Duration IDLE_WAIT = Duration.ofMillis(200);

  private final WorkerConfig config;
  private final Pipeline pipeline;
  private final Transport transport;
  private final Batcher<Delivery> batcher;
  private final Settle settle;
  private final ResultSink sink;
  private final BlockingQueue<Slot> free;
  private final BlockingQueue<Slot> ready;
  private final ExecutorService preprocessPool;
  private final WorkerStats stats = new WorkerStats();
  private final WorkerEvents events = new WorkerEvents().add(stats);
  private final Thread taker;
  private final Thread inference;
  private volatile boolean running;
  private volatile boolean takerDone;

  /** A batch's buffers and the deliveries it holds now. */
  private static final class Slot {
    final Batch batch;
    List<Delivery> deliveries = List.of();

    Slot(Batch batch) {
      this.batch = batch;
    }
  }

  public Worker(WorkerConfig config, Pipeline pipeline, Transport transport, ResultSink sink) {
    this.config = config;
    this.pipeline = pipeline;
    this.transport = transport;
    this.settle = new Settle(transport);
    this.batcher =
        new Batcher<>(
            transport::poll,
            transport.describe(),
            config.batchSize(),
            config.linger(),
            this::modelBusy);
    this.sink = sink;
    this.free = new ArrayBlockingQueue<>(config.pipelineDepth());
    this.ready = new ArrayBlockingQueue<>(config.pipelineDepth());
    for (int i = 0; i < config.pipelineDepth(); i++) {
      free.add(new Slot(pipeline.newBatch(config.batchSize())));
    }
    AtomicInteger n = new AtomicInteger();
    this.preprocessPool =
        Executors.newFixedThreadPool(
            config.preprocessThreads(),
            r -> daemon(r, "conveyor-preprocess-" + n.incrementAndGet()));
    this.taker = daemon(this::takeLoop, "conveyor-take");
    this.inference = daemon(this::inferenceLoop, "conveyor-inference");
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Starts taking requests. */
  public Worker start() {
    running = true;
    taker.start();
    inference.start();
    LOG.info(
        "worker started: model {} from {}, batch {}, linger {} ms, {} preprocessing threads",
        pipeline.model().name(),
        transport.describe(),
        config.batchSize(),
        config.linger().toMillis(),
        config.preprocessThreads());
    return this;
  }

  public WorkerStats stats() {
    return stats;
  }

  /**
   * Whether the worker is still working: started, not stopped, and both its threads alive. A thread
   * that died of an error (an {@link OutOfMemoryError}, say) leaves the worker unable to answer
   * anything, and liveness checks say so.
   */
  public boolean alive() {
    return running && taker.isAlive() && inference.isAlive();
  }

  /** Tells {@code listener} of this worker's model calls and results from now on. */
  public Worker listen(WorkerListener listener) {
    events.add(listener);
    return this;
  }

  private void takeLoop() {
    long backoffMillis = 0;
    try {
      while (running) {
        Slot slot = free.take();
        List<Delivery> deliveries;
        try {
          deliveries = batcher.next(IDLE_WAIT);
          backoffMillis = 0;
        } catch (RuntimeException e) {
          free.put(slot);
          backoffMillis = Settle.nextBackoff(backoffMillis);
          LOG.warn(
              "taking from {} failed, retrying in {} ms: {}",
              transport.describe(),
              backoffMillis,
              e.toString());
          Thread.sleep(backoffMillis);
          continue;
        }
        if (deliveries.isEmpty()) {
          free.put(slot);
          continue;
        }
        slot.deliveries = deliveries;
        pipeline.begin(slot.batch, deliveries.stream().map(Delivery::request).toList());
        for (int i = 0; i < deliveries.size(); i++) {
          int index = i;
          preprocessPool.execute(
              () -> {
                if (pipeline.prepare(slot.batch, index)) {
                  ready.add(slot);
                }
              });
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Error e) {
      LOG.error("the worker's take thread died; the worker is no longer alive", e);
      throw e;
    } finally {
      takerDone = true;
    }
  }

  /** Whether other batches are being preprocessed or run: a new one could not start yet. */
  private boolean modelBusy() {
    return free.size() < config.pipelineDepth() - 1;
  }

  private void inferenceLoop() {
    try {
      while (!(takerDone && ready.isEmpty() && free.size() == config.pipelineDepth())) {
        Slot slot = ready.poll(100, TimeUnit.MILLISECONDS);
        if (slot == null) {
          continue;
        }
        try {
          process(slot);
        } catch (RuntimeException e) {
          // the transport failed to take the batch back: it redelivers what it never saw acked
          LOG.error(
              "settling a batch of {} with {} failed",
              slot.deliveries.size(),
              transport.describe(),
              e);
        }
        free.put(slot);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Error e) {
      LOG.error("the worker's inference thread died; the worker is no longer alive", e);
      throw e;
    }
  }

  private void process(Slot slot) {
    List<Delivery> deliveries = slot.deliveries;
    List<ClassifyResult> results;
    long start = System.nanoTime();
    try {
      results = pipeline.finish(slot.batch);
      if (slot.batch.filled() > 0) {
        events.batch(slot.batch.filled(), System.nanoTime() - start);
      }
    } catch (ConveyorException e) {
      if (e.retriable()) {
        LOG.warn(
            "the model failed on a batch of {}; releasing it for redelivery", deliveries.size(), e);
        events.batchFailed(deliveries.size());
        settle.release(deliveries, "the model failed: " + e.getMessage());
        return;
      }
      results = pipeline.failAll(slot.batch, e);
    }
    List<Delivery> done = new ArrayList<>(deliveries.size());
    List<ClassifyResult> stored = new ArrayList<>(results.size());
    List<Delivery> again = new ArrayList<>();
    String reason = null;
    for (int i = 0; i < deliveries.size(); i++) {
      ConveyorException error = slot.batch.error(i);
      if (error != null && error.retriable()) {
        again.add(deliveries.get(i));
        reason = error.getMessage();
      } else {
        done.add(deliveries.get(i));
        stored.add(results.get(i));
      }
    }
    if (!again.isEmpty()) {
      settle.release(again, reason);
    }
    deliver(done, stored);
  }

  private void deliver(List<Delivery> deliveries, List<ClassifyResult> results) {
    if (deliveries.isEmpty()) {
      return;
    }
    List<ImageRequest> requests = deliveries.stream().map(Delivery::request).toList();
    try {
      sink.deliver(requests, results);
    } catch (Exception e) {
      LOG.warn("storing {} results failed; releasing them for redelivery", results.size(), e);
      settle.release(deliveries, "storing the result failed: " + e.getMessage());
      return;
    }
    settle.ack(deliveries);
    long now = System.nanoTime();
    for (int i = 0; i < results.size(); i++) {
      events.result(requests.get(i), results.get(i), now - requests.get(i).enqueuedNanos());
    }
  }

  /**
   * Stops taking, finishes the batches already taken (their results are delivered and
   * acknowledged), then stops. Waits at most {@code timeoutMillis}.
   */
  public void stop(long timeoutMillis) throws InterruptedException {
    running = false;
    long deadline = System.currentTimeMillis() + timeoutMillis;
    taker.join(Math.max(1, timeoutMillis));
    inference.join(Math.max(1, deadline - System.currentTimeMillis()));
    preprocessPool.shutdownNow();
  }

  @Override
  public void close() {
    try {
      stop(30_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
