package dev.conveyor.core.pipeline;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.batch.Batch;
import dev.conveyor.core.fetch.FetchAllow;
import dev.conveyor.core.fetch.Fetcher;
import dev.conveyor.core.model.Classifier;
import dev.conveyor.core.model.ModelSpec;
import dev.conveyor.core.preprocess.Preprocessor;
import dev.conveyor.core.preprocess.TensorReader;
import dev.conveyor.core.topk.TopK;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The classification pipeline: fetch bytes by key when needed, decode and preprocess into a batch's
 * direct buffer (or, for a request that carries a tensor, copy it there), run the model, pick the
 * top-k, and make one result per request. {@link #classify} does it all synchronously, for engines
 * and tests; a worker (core.worker) drives the same steps on its threads. A bad image becomes an
 * error result, never an exception. Thread-safe: buffers are reused through a pool, and the model
 * runs one batch at a time.
 */
public final class Pipeline implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

  /**
   * Threads that fetch images by key, so that a batch's downloads wait on the store together rather
   * than one after another on the preprocessing threads.
   */
  static final int FETCH_THREADS = 16;

  private final Classifier classifier;
  private final Preprocessor preprocessor;
  private final TopK topK;
  private final Fetcher fetcher;
  private final TensorReader tensors;
  private final String host;
  private final int batchSize;
  private final ConcurrentLinkedQueue<Batch> pool = new ConcurrentLinkedQueue<>();
  private volatile ThreadPoolExecutor fetching;

  /**
   * A pipeline whose tensor requests that do not give their layout are in the model's.
   *
   * @param batchSize the most images per model call in {@link #classify}
   * @param host the host name results report
   */
  public Pipeline(
      Classifier classifier,
      Preprocessor preprocessor,
      TopK topK,
      Fetcher fetcher,
      String host,
      int batchSize) {
    this(
        classifier,
        preprocessor,
        new TensorReader(preprocessor.spec(), null),
        topK,
        fetcher,
        host,
        batchSize);
  }

  /**
   * @param tensors reads requests that carry a tensor instead of an encoded image
   * @param batchSize the most images per model call in {@link #classify}
   * @param host the host name results report
   */
  public Pipeline(
      Classifier classifier,
      Preprocessor preprocessor,
      TensorReader tensors,
      TopK topK,
      Fetcher fetcher,
      String host,
      int batchSize) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be at least 1");
    }
    this.classifier = classifier;
    this.preprocessor = preprocessor;
    this.topK = topK;
    this.fetcher = fetcher;
    this.tensors = tensors;
    this.host = host;
    this.batchSize = batchSize;
  }

  public ModelSpec model() {
    return classifier.spec();
  }

  public Preprocessor preprocessor() {
    return preprocessor;
  }

  public Classifier classifier() {
    return classifier;
  }

  public int batchSize() {
    return batchSize;
  }

  /** Classifies the requests, in batches of {@link #batchSize()}: one result each, in order. */
  public List<ClassifyResult> classify(List<ImageRequest> requests) {
    List<ClassifyResult> results = new ArrayList<>(requests.size());
    Batch batch = pool.poll();
    if (batch == null) {
      batch = newBatch(batchSize);
    }
    try {
      for (int from = 0; from < requests.size(); from += batchSize) {
        begin(batch, requests.subList(from, Math.min(requests.size(), from + batchSize)));
        for (int i = 0; i < batch.requests().size(); i++) {
          prepare(batch, i);
        }
        try {
          results.addAll(finish(batch));
        } catch (ConveyorException e) {
          results.addAll(failAll(batch, e));
        }
      }
    } finally {
      pool.add(batch);
    }
    return results;
  }

  /**
   * Classifies a stream of requests in order, one result each, preparing the next batch on {@code
   * preparers} while the model runs the current one, as a worker's threads do. The requests are
   * read on the calling thread only, a batch at a time, so at most two batches are held. For
   * engines whose tasks hand over an iterator (a Spark partition).
   */
  public Iterator<ClassifyResult> classify(Iterator<ImageRequest> requests, Executor preparers) {
    return new Iterator<>() {
      private final ArrayDeque<Prepared> inFlight = new ArrayDeque<>(2);
      private final ArrayDeque<ClassifyResult> ready = new ArrayDeque<>();

      @Override
      public boolean hasNext() {
        if (ready.isEmpty()) {
          fill();
          Prepared head = inFlight.poll();
          if (head != null) {
            fill();
            head.done.join();
            try {
              ready.addAll(finish(head.batch));
            } catch (ConveyorException e) {
              ready.addAll(failAll(head.batch, e));
            } finally {
              pool.add(head.batch);
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
          List<ImageRequest> chunk = new ArrayList<>(batchSize);
          while (chunk.size() < batchSize && requests.hasNext()) {
            chunk.add(requests.next());
          }
          Batch batch = pool.poll();
          if (batch == null) {
            batch = newBatch(batchSize);
          }
          begin(batch, chunk);
          Prepared p = new Prepared(batch, new CompletableFuture<>());
          for (int i = 0; i < chunk.size(); i++) {
            int slot = i;
            Runnable task =
                () -> {
                  if (prepare(p.batch, slot)) {
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
    };
  }

  private record Prepared(Batch batch, CompletableFuture<Void> done) {}

  /** Buffers for batches of up to {@code capacity} images. */
  public Batch newBatch(int capacity) {
    return new Batch(capacity, preprocessor.tensorSize(), classifier.spec().classes());
  }

  /**
   * Starts a batch of requests, each to be {@link #prepare prepared} once: the images they carry by
   * key start downloading at once, {@link #FETCH_THREADS} at a time, so that the store's latency is
   * paid once per batch rather than once per image on the preprocessing threads.
   */
  public void begin(Batch batch, List<ImageRequest> requests) {
    batch.reset(requests);
    for (int i = 0; i < requests.size(); i++) {
      ImageRequest r = requests.get(i);
      if (!r.hasBytes()) {
        batch.fetching(i, startFetch(r));
      }
    }
  }

  private Executor fetchThreads() {
    ThreadPoolExecutor pool = fetching;
    if (pool == null) {
      synchronized (this) {
        if (fetching == null) {
          AtomicInteger n = new AtomicInteger();
          fetching =
              new ThreadPoolExecutor(
                  FETCH_THREADS,
                  FETCH_THREADS,
                  30,
                  TimeUnit.SECONDS,
                  new LinkedBlockingQueue<>(),
                  r -> {
                    Thread t = new Thread(r, "conveyor-fetch-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                  });
          fetching.allowCoreThreadTimeOut(true);
        }
        pool = fetching;
      }
    }
    return pool;
  }

  /**
   * The bytes of request {@code i}: its own, or fetched by key, waiting at most the fetcher's
   * timeout ({@code FETCH_FAILED} beyond it). A fetch that fails in any other way than with the
   * fetcher's own errors is {@link FetchAllow#denied()}: the answer says nothing of what the
   * reference named.
   */
  private byte[] bytes(Batch batch, int i, ImageRequest request) {
    if (request.hasBytes()) {
      return request.bytes();
    }
    CompletableFuture<byte[]> started = batch.fetch(i);
    batch.fetching(i, null); // the bytes are not kept with the batch once taken
    if (started == null) {
      started = startFetch(request);
    }
    try {
      return started.get(fetcher.timeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ConveyorException c) {
        throw c;
      }
      LOG.warn("fetching a reference failed: {}", e.getCause().toString());
      throw FetchAllow.denied();
    } catch (TimeoutException e) {
      // only an allowed reference is fetched at all: saying it was slow tells nothing more
      started.cancel(true);
      LOG.warn("fetching a reference took over {}", fetcher.timeout());
      throw new ConveyorException(
          ErrorCode.FETCH_FAILED,
          "fetching the image took over %d s".formatted(fetcher.timeout().toSeconds()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConveyorException(ErrorCode.FETCH_FAILED, "interrupted while fetching");
    }
  }

  private CompletableFuture<byte[]> startFetch(ImageRequest r) {
    return CompletableFuture.supplyAsync(
        () -> fetcher.fetch(r.source(), preprocessor.decoder().limits().maxBytes()),
        fetchThreads());
  }

  /**
   * Fetches, decodes and preprocesses request {@code i} of the batch into its slot; a failure is
   * kept as that request's error. Requests of one batch may be prepared on different threads.
   *
   * @return true for the last request of the batch to be prepared
   */
  public boolean prepare(Batch batch, int i) {
    ImageRequest request = batch.requests().get(i);
    try {
      if (ImageRequest.UNREADABLE.equals(request.contentType())) {
        throw new ConveyorException(
            ErrorCode.BAD_REQUEST,
            new String(request.bytes(), java.nio.charset.StandardCharsets.UTF_8));
      }
      byte[] bytes = bytes(batch, i, request);
      TensorReader.Tensor tensor = tensors.read(bytes, request.contentType());
      if (tensor != null) {
        // nothing to decode: straight into the batch buffer
        tensor.write(batch.inputBytes(), batch.claimSlot(i));
      } else {
        var pixels = preprocessor.pixels(bytes);
        try {
          preprocessor.write(pixels, batch.inputBytes(), batch.claimSlot(i));
        } finally {
          pixels.release();
        }
      }
    } catch (ConveyorException e) {
      batch.fail(i, e);
    } catch (Throwable t) {
      LOG.warn("unexpected failure preprocessing request {}", request.id(), t);
      batch.fail(
          i,
          new ConveyorException(
              ErrorCode.INTERNAL, "preprocessing failed; the worker's log says why"));
    }
    return batch.settle();
  }

  /**
   * Runs the model on the prepared images and makes each request's result.
   *
   * @throws ConveyorException when the model fails: no result is made
   */
  public List<ClassifyResult> finish(Batch batch) {
    int n = batch.filled();
    int classes = classifier.spec().classes();
    if (n > 0) {
      try {
        classifier.run(batch.input(), n, batch.output());
      } catch (ConveyorException e) {
        throw e;
      } catch (RuntimeException e) {
        throw new ConveyorException(ErrorCode.INFERENCE_FAILED, e.toString(), e);
      }
      batch.output().get(0, batch.scores(), 0, n * classes);
    }
    List<ClassifyResult> results = new ArrayList<>(batch.requests().size());
    for (int i = 0; i < batch.requests().size(); i++) {
      results.add(result(batch, i, classes));
    }
    return results;
  }

  /** One error result per request of the batch, for a model failure that will not pass. */
  public List<ClassifyResult> failAll(Batch batch, ConveyorException e) {
    List<ClassifyResult> results = new ArrayList<>();
    for (ImageRequest r : batch.requests()) {
      results.add(ClassifyResult.error(r, e.code(), e.getMessage(), host, millisSince(r)));
    }
    return results;
  }

  private ClassifyResult result(Batch batch, int i, int classes) {
    ImageRequest request = batch.requests().get(i);
    int slot = batch.slotOf(i);
    if (slot < 0) {
      ConveyorException e = batch.error(i);
      return ClassifyResult.error(request, e.code(), e.getMessage(), host, millisSince(request));
    }
    return ClassifyResult.ok(
        request,
        classifier.spec().name(),
        topK.select(batch.scores(), slot * classes, classes),
        host,
        millisSince(request));
  }

  private static double millisSince(ImageRequest request) {
    return (System.nanoTime() - request.enqueuedNanos()) / 1e6;
  }

  /** Closes the model, and the fetcher's clients. */
  @Override
  public void close() {
    if (fetching != null) {
      fetching.shutdownNow();
    }
    classifier.close();
    if (fetcher instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("closing the fetcher failed", e);
      }
    }
  }
}
