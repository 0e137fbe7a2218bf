package dev.conveyor.core.fetch;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fetch stage: downloads the images that requests carry by reference, on threads of their own,
 * so that a batch's downloads wait on the store together rather than one after another on the
 * preprocessing threads. Closing it closes the fetcher.
 */
public final class Prefetch implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Prefetch.class);

  /** Fetches in flight at once. */
  public static final int THREADS = 16;

  private final Fetcher fetcher;
  private final long maxBytes;
  private volatile ThreadPoolExecutor threads;

  /**
   * @param maxBytes the largest image accepted: a larger one is refused while it downloads
   */
  public Prefetch(Fetcher fetcher, long maxBytes) {
    this.fetcher = fetcher;
    this.maxBytes = maxBytes;
  }

  /** Starts fetching the image {@code request} refers to. */
  public CompletableFuture<byte[]> start(ImageRequest request) {
    return CompletableFuture.supplyAsync(
        () -> fetcher.fetch(request.source(), maxBytes), threads());
  }

  /**
   * The fetched bytes, waiting at most the fetcher's timeout ({@code FETCH_FAILED} beyond it). A
   * fetch that fails in any other way than with the fetcher's own errors is {@link
   * FetchAllow#denied()}: the answer says nothing of what the reference named.
   */
  public byte[] await(CompletableFuture<byte[]> started) {
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

  private ThreadPoolExecutor threads() {
    ThreadPoolExecutor pool = threads;
    if (pool == null) {
      synchronized (this) {
        if (threads == null) {
          AtomicInteger n = new AtomicInteger();
          threads =
              new ThreadPoolExecutor(
                  THREADS,
                  THREADS,
                  30,
                  TimeUnit.SECONDS,
                  new LinkedBlockingQueue<>(),
                  r -> {
                    Thread t = new Thread(r, "conveyor-fetch-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                  });
          threads.allowCoreThreadTimeOut(true);
        }
        pool = threads;
      }
    }
    return pool;
  }

  /** Stops the fetch threads and closes the fetcher's clients. */
  @Override
  public void close() {
    if (threads != null) {
      threads.shutdownNow();
    }
    if (fetcher instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("closing the fetcher failed", e);
      }
    }
  }
}
