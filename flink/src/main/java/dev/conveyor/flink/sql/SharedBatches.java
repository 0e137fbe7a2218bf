package dev.conveyor.flink.sql;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.settings.Settings;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;

/**
 * The model of a set of settings in one JVM (a TaskManager), shared by every task that calls the
 * SQL function with them, and the batches their calls are gathered into: a batch runs once it holds
 * {@code batch} requests, or {@code linger-ms} after its first. Two batches run at once, so that
 * one is decoded while the model runs the other. The last user to let go closes the model.
 */
final class SharedBatches {
  private static final Map<Map<String, String>, SharedBatches> OPEN = new HashMap<>();

  private final Map<String, String> key;
  private final ServedModels models;
  private final int batch;
  private final long lingerMillis;
  private final ScheduledExecutorService timer;
  private final ExecutorService runners;
  private int users;
  private List<ImageRequest> requests;
  private List<CompletableFuture<ClassifyResult>> futures;
  private ScheduledFuture<?> lingering;

  private SharedBatches(Map<String, String> key) {
    this.key = key;
    Settings s = ServedModels.read(key, "classify");
    this.batch = s.get(PipelineSettings.BATCH);
    this.lingerMillis = s.get(PipelineSettings.LINGER_MS);
    this.models = ServedModels.open(s);
    this.timer = Executors.newSingleThreadScheduledExecutor(daemons("conveyor-linger"));
    this.runners = Executors.newFixedThreadPool(2, daemons("conveyor-classify"));
    this.requests = new ArrayList<>(batch);
    this.futures = new ArrayList<>(batch);
  }

  /** The batches of these settings, opened on first use in this JVM. */
  static SharedBatches acquire(Map<String, String> settings) {
    Map<String, String> key = Map.copyOf(settings);
    synchronized (OPEN) {
      SharedBatches shared = OPEN.get(key);
      if (shared == null) {
        shared = new SharedBatches(key);
        OPEN.put(key, shared);
      }
      shared.users++;
      return shared;
    }
  }

  /** Lets go of these batches; the last user closes the model once what is gathered has run. */
  void release() {
    synchronized (OPEN) {
      if (--users > 0) {
        return;
      }
      OPEN.remove(key);
    }
    runNow();
    timer.shutdownNow();
    runners.shutdown();
    try {
      runners.awaitTermination(1, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      models.close();
    }
  }

  /** The result of {@code request}, once its batch has run. */
  CompletableFuture<ClassifyResult> submit(ImageRequest request) {
    CompletableFuture<ClassifyResult> result = new CompletableFuture<>();
    boolean full;
    synchronized (this) {
      requests.add(request);
      futures.add(result);
      full = requests.size() >= batch;
      if (!full && requests.size() == 1) {
        lingering = timer.schedule(this::runNow, lingerMillis, TimeUnit.MILLISECONDS);
      }
    }
    if (full) {
      runNow();
    }
    return result;
  }

  /** Runs what is gathered, if anything. */
  private void runNow() {
    List<ImageRequest> batchRequests;
    List<CompletableFuture<ClassifyResult>> batchFutures;
    synchronized (this) {
      if (requests.isEmpty()) {
        return;
      }
      if (lingering != null) {
        lingering.cancel(false);
        lingering = null;
      }
      batchRequests = requests;
      batchFutures = futures;
      requests = new ArrayList<>(batch);
      futures = new ArrayList<>(batch);
    }
    runners.execute(() -> run(batchRequests, batchFutures));
  }

  private void run(List<ImageRequest> batchRequests, List<CompletableFuture<ClassifyResult>> out) {
    try {
      List<ClassifyResult> results = models.classify(batchRequests);
      for (int i = 0; i < out.size(); i++) {
        out.get(i).complete(results.get(i));
      }
    } catch (RuntimeException e) {
      // the model could not be had for now: Flink retries the calls, as its retry strategy says
      out.forEach(f -> f.completeExceptionally(e));
    }
  }

  private static ThreadFactory daemons(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
