package dev.conveyor.core.worker;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.batch.Batch;
import dev.conveyor.core.batch.Batcher;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
  private final Models models;
  private final Transport transport;
  private final Batcher<Delivery> batcher;
  private final BatchFinisher finisher;
  private final BlockingQueue<WorkerSlot> free;
  private final BlockingQueue<WorkerSlot> ready;
  private final ExecutorService preprocessPool;
  private final WorkerStats stats = new WorkerStats();
  private final WorkerEvents events = new WorkerEvents().add(stats);
  private final Thread taker;
  private final Thread inference;
  private volatile boolean running;
  private volatile boolean takerDone;

  public Worker(WorkerConfig config, Pipeline pipeline, Transport transport, ResultSink sink) {
    this(config, Models.of(pipeline), transport, sink);
    for (WorkerSlot slot : free) {
      slot.batchFor(pipeline, config.batchSize());
    }
  }

  /**
   * A worker for several models: each batch holds requests naming one model, and runs on the
   * version {@code models} lends for it.
   */
  public Worker(WorkerConfig config, Models models, Transport transport, ResultSink sink) {
    this.config = config;
    this.models = models;
    this.transport = transport;
    this.batcher =
        new Batcher<>(
            transport::poll,
            transport.describe(),
            config.batchSize(),
            config.linger(),
            this::modelBusy);
    this.finisher =
        new BatchFinisher(
            new Settle(transport), sink, events, transport.exactlyOnce().orElse(null));
    // a transport that settles batches in order takes one at a time (Kafka exactly once)
    int depth =
        transport.exactlyOnce().map(Transport.ExactlyOnce::inOrder).orElse(false)
            ? 1
            : config.pipelineDepth();
    this.free = new ArrayBlockingQueue<>(depth);
    this.ready = new ArrayBlockingQueue<>(depth);
    for (int i = 0; i < depth; i++) {
      free.add(new WorkerSlot());
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
        "worker started: {} from {}, batch {}, linger {} ms, {} preprocessing threads",
        models.describe(),
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
        WorkerSlot slot = free.take();
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
        // one batch per model named, in the order their first requests came
        Map<String, List<Delivery>> byModel = new LinkedHashMap<>();
        for (Delivery d : deliveries) {
          byModel.computeIfAbsent(d.request().model(), k -> new ArrayList<>()).add(d);
        }
        boolean first = true;
        for (Map.Entry<String, List<Delivery>> group : byModel.entrySet()) {
          start(first ? slot : free.take(), group.getKey(), group.getValue());
          first = false;
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

  /**
   * Starts a batch of requests naming one model: preprocessed on the pool, then run. Requests for a
   * model that cannot be had go on as they are, to be answered or handed back on the inference
   * thread, which alone delivers and settles.
   */
  private void start(WorkerSlot slot, String model, List<Delivery> deliveries) {
    slot.deliveries = deliveries;
    try {
      slot.lease = models.lease(model);
    } catch (ConveyorException e) {
      if (e.retriable()) {
        slot.releaseReason = e.getMessage();
      } else {
        slot.refused = Models.refused(deliveries.stream().map(Delivery::request).toList(), e);
      }
      ready.add(slot);
      return;
    }
    Pipeline pipeline = slot.lease.pipeline();
    Batch batch = slot.batchFor(pipeline, config.batchSize());
    pipeline.begin(batch, deliveries.stream().map(Delivery::request).toList());
    for (int i = 0; i < deliveries.size(); i++) {
      int index = i;
      preprocessPool.execute(
          () -> {
            if (pipeline.prepare(batch, index)) {
              ready.add(slot);
            }
          });
    }
  }

  /** Whether other batches are being preprocessed or run: a new one could not start yet. */
  private boolean modelBusy() {
    return free.size() < config.pipelineDepth() - 1;
  }

  private void inferenceLoop() {
    try {
      while (!(takerDone && ready.isEmpty() && free.size() == config.pipelineDepth())) {
        WorkerSlot slot = ready.poll(100, TimeUnit.MILLISECONDS);
        if (slot == null) {
          continue;
        }
        try {
          finisher.finish(slot);
        } catch (RuntimeException e) {
          // the transport failed to take the batch back: it redelivers what it never saw acked
          LOG.error(
              "settling a batch of {} with {} failed",
              slot.deliveries.size(),
              transport.describe(),
              e);
        }
        if (slot.lease != null) {
          slot.lease.close();
        }
        slot.clear();
        free.put(slot);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Error e) {
      LOG.error("the worker's inference thread died; the worker is no longer alive", e);
      throw e;
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
