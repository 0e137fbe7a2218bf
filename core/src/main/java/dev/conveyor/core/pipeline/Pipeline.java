package dev.conveyor.core.pipeline;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.batch.Batch;
import dev.conveyor.core.fetch.Fetcher;
import dev.conveyor.core.fetch.Prefetch;
import dev.conveyor.core.model.Classifier;
import dev.conveyor.core.model.ModelSpec;
import dev.conveyor.core.preprocess.Preprocessor;
import dev.conveyor.core.preprocess.TensorReader;
import dev.conveyor.core.topk.TopK;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
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

  private final Classifier classifier;
  private final Preprocessor preprocessor;
  private final TopK topK;
  private final Prefetch prefetch;
  private final TensorReader tensors;
  private final String host;
  private final int batchSize;
  private final ConcurrentLinkedQueue<Batch> pool = new ConcurrentLinkedQueue<>();

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
    this.prefetch = new Prefetch(fetcher, preprocessor.decoder().limits().maxBytes());
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
    Batch batch = borrow();
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
      giveBack(batch);
    }
    return results;
  }

  /**
   * Classifies a stream of requests in order, one result each, as a worker's threads do: the model
   * runs a batch on one of {@code preparers} while others prepare the next, and the calling thread
   * reads the requests after them and hands on the results before. The requests are read on the
   * calling thread only, a batch at a time, so at most three batches are held. For engines whose
   * tasks hand over an iterator (a Spark partition).
   */
  public Iterator<ClassifyResult> classify(Iterator<ImageRequest> requests, Executor preparers) {
    return new Overlapped(this, requests, preparers);
  }

  /** A batch's buffers from the pool, or new ones. */
  Batch borrow() {
    Batch batch = pool.poll();
    return batch != null ? batch : newBatch(batchSize);
  }

  /** Gives a batch's buffers back to the pool. */
  void giveBack(Batch batch) {
    pool.add(batch);
  }

  /** Buffers for batches of up to {@code capacity} images. */
  public Batch newBatch(int capacity) {
    return new Batch(capacity, preprocessor.tensorSize(), classifier.spec().classes());
  }

  /**
   * Starts a batch of requests, each to be {@link #prepare prepared} once: the images they carry by
   * key start downloading at once, {@link Prefetch#THREADS} at a time, so that the store's latency
   * is paid once per batch rather than once per image on the preprocessing threads.
   */
  public void begin(Batch batch, List<ImageRequest> requests) {
    batch.reset(requests);
    for (int i = 0; i < requests.size(); i++) {
      ImageRequest r = requests.get(i);
      if (!r.hasBytes()) {
        batch.fetching(i, prefetch.start(r));
      }
    }
  }

  /** The bytes of request {@code i}: its own, or fetched by reference. */
  private byte[] bytes(Batch batch, int i, ImageRequest request) {
    if (request.hasBytes()) {
      return request.bytes();
    }
    CompletableFuture<byte[]> started = batch.fetch(i);
    batch.fetching(i, null); // the bytes are not kept with the batch once taken
    return prefetch.await(started != null ? started : prefetch.start(request));
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
    prefetch.close();
    classifier.close();
  }
}
