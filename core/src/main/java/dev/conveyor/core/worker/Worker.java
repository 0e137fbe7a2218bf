package dev.conveyor.core.worker;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.classify.Classifier;
import dev.conveyor.core.classify.TopK;
import dev.conveyor.core.pipeline.PipelineEvents;
import dev.conveyor.core.pipeline.PipelineListener;
import dev.conveyor.core.preprocess.Preprocessor;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Transport;
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
 * Takes batches from a transport, preprocesses their images in parallel, runs the model, and
 * delivers one result per request to the sink; acknowledges a batch only after its results are
 * stored. While one batch is in the model the next ones are being preprocessed, so the model does
 * not wait for pixels. A bad image becomes an error result; nothing an image does stops the worker.
 */
public final class Worker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Worker.class);
  private static final long MAX_BACKOFF_MILLIS = 5_000;
  private static final java.time.Duration SETTLE_PATIENCE = java.time.Duration.ofMinutes(1);

  private final WorkerConfig config;
  private final Classifier classifier;
  private final Preprocessor preprocessor;
  private final Transport transport;
  private final ResultSink sink;
  private final Fetcher fetcher;
  private final TopK topK;
  private final String modelName;
  private final int classes;
  private final BlockingQueue<Batch> free;
  private final BlockingQueue<Batch> ready;
  private final ExecutorService preprocessPool;
  private final WorkerStats stats = new WorkerStats();
  private final PipelineEvents events = new PipelineEvents().add(stats);
  private final Thread taker;
  private final Thread inference;
  private volatile boolean running;
  private volatile boolean takerDone;

  public Worker(
      WorkerConfig config,
      Classifier classifier,
      Preprocessor preprocessor,
      TopK topK,
      Transport transport,
      ResultSink sink,
      Fetcher fetcher) {
    this.config = config;
    this.classifier = classifier;
    this.preprocessor = preprocessor;
    this.topK = topK;
    this.transport = transport;
    this.sink = sink;
    this.fetcher = fetcher;
    this.modelName = classifier.spec().name();
    this.classes = classifier.spec().classes();
    this.free = new ArrayBlockingQueue<>(config.pipelineDepth());
    this.ready = new ArrayBlockingQueue<>(config.pipelineDepth());
    for (int i = 0; i < config.pipelineDepth(); i++) {
      free.add(new Batch(config.batchSize(), preprocessor.tensorSize(), classes));
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
        modelName,
        transport.describe(),
        config.batchSize(),
        config.linger().toMillis(),
        config.preprocessThreads());
    return this;
  }

  public WorkerStats stats() {
    return stats;
  }

  /** Tells {@code listener} of this worker's model calls and results from now on. */
  public Worker listen(PipelineListener listener) {
    events.add(listener);
    return this;
  }

  private void takeLoop() {
    long backoffMillis = 0;
    try {
      while (running) {
        Batch batch = free.take();
        List<Delivery> deliveries;
        try {
          // linger for more only while other batches hold the model: an idle one starts at once
          deliveries =
              transport.take(
                  config.batchSize(),
                  config.linger(),
                  () -> free.size() < config.pipelineDepth() - 1);
          backoffMillis = 0;
        } catch (RuntimeException e) {
          free.put(batch);
          backoffMillis = Math.min(MAX_BACKOFF_MILLIS, Math.max(100, backoffMillis * 2));
          LOG.warn(
              "taking from {} failed, retrying in {} ms: {}",
              transport.describe(),
              backoffMillis,
              e.toString());
          Thread.sleep(backoffMillis);
          continue;
        }
        if (deliveries.isEmpty()) {
          free.put(batch);
          continue;
        }
        batch.reset(deliveries);
        for (int i = 0; i < deliveries.size(); i++) {
          int index = i;
          preprocessPool.execute(() -> prepare(batch, index));
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      takerDone = true;
    }
  }

  private void prepare(Batch batch, int i) {
    ImageRequest request = batch.deliveries().get(i).request();
    try {
      byte[] bytes =
          request.hasBytes()
              ? request.bytes()
              : fetcher.fetch(request.source(), preprocessor.decoder().limits().maxBytes());
      var pixels = preprocessor.pixels(bytes);
      try {
        preprocessor.write(pixels, batch.inputBytes, batch.claimSlot(i));
      } finally {
        pixels.release();
      }
    } catch (ConveyorException e) {
      batch.fail(i, e);
    } catch (Throwable t) {
      LOG.warn("unexpected failure preprocessing {}", request.source(), t);
      batch.fail(i, new ConveyorException(ErrorCode.INTERNAL, "preprocessing failed: " + t));
    } finally {
      if (batch.settle()) {
        ready.add(batch);
      }
    }
  }

  private void inferenceLoop() {
    try {
      while (!(takerDone && ready.isEmpty() && free.size() == config.pipelineDepth())) {
        Batch batch = ready.poll(100, TimeUnit.MILLISECONDS);
        if (batch == null) {
          continue;
        }
        try {
          process(batch);
        } catch (RuntimeException e) {
          // the transport failed to take the batch back: it redelivers what it never saw acked
          LOG.error(
              "settling a batch of {} with {} failed",
              batch.deliveries().size(),
              transport.describe(),
              e);
        }
        free.put(batch);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void process(Batch batch) {
    List<Delivery> deliveries = batch.deliveries();
    int n = batch.filled();
    if (n > 0) {
      try {
        long start = System.nanoTime();
        classifier.run(batch.input, n, batch.output);
        batch.output.get(0, batch.scores, 0, n * classes);
        events.batch(n, System.nanoTime() - start);
      } catch (RuntimeException e) {
        LOG.warn("the model failed on a batch of {}; releasing it for redelivery", n, e);
        events.batchFailed(n);
        transport.release(deliveries, "the model failed: " + e.getMessage());
        return;
      }
    }
    List<ClassifyResult> results = new ArrayList<>(deliveries.size());
    for (int i = 0; i < deliveries.size(); i++) {
      results.add(result(batch, i));
    }
    try {
      sink.deliver(deliveries.stream().map(Delivery::request).toList(), results);
    } catch (Exception e) {
      LOG.warn("storing {} results failed; releasing them for redelivery", results.size(), e);
      settle(
          "releasing",
          () -> transport.release(deliveries, "storing the result failed: " + e.getMessage()));
      return;
    }
    settle("acknowledging", () -> transport.ack(deliveries));
    long now = System.nanoTime();
    for (int i = 0; i < results.size(); i++) {
      ImageRequest request = deliveries.get(i).request();
      events.result(request, results.get(i), now - request.enqueuedNanos());
    }
  }

  /**
   * Acknowledges or releases a batch, retrying with backoff while the broker is away (for at most
   * {@link #SETTLE_PATIENCE}): a batch left unsettled would be neither redelivered nor done.
   */
  private void settle(String what, Runnable action) {
    long deadline = System.nanoTime() + SETTLE_PATIENCE.toNanos();
    long backoffMillis = 100;
    while (true) {
      try {
        action.run();
        return;
      } catch (RuntimeException e) {
        if (System.nanoTime() > deadline) {
          LOG.error(
              "{} a batch with {} failed for {}; giving up",
              what,
              transport.describe(),
              SETTLE_PATIENCE,
              e);
          return;
        }
        LOG.warn(
            "{} a batch with {} failed, retrying in {} ms: {}",
            what,
            transport.describe(),
            backoffMillis,
            e.toString());
        try {
          Thread.sleep(backoffMillis);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          return;
        }
        backoffMillis = Math.min(MAX_BACKOFF_MILLIS, backoffMillis * 2);
      }
    }
  }

  private ClassifyResult result(Batch batch, int i) {
    ImageRequest request = batch.deliveries().get(i).request();
    double ms = (System.nanoTime() - request.enqueuedNanos()) / 1e6;
    int slot = batch.slotOf(i);
    if (slot < 0) {
      ConveyorException e = batch.error(i);
      return ClassifyResult.error(request, e.code(), e.getMessage(), config.host(), ms);
    }
    return ClassifyResult.ok(
        request, modelName, topK.select(batch.scores, slot * classes, classes), config.host(), ms);
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
