package dev.conveyor.server;

import dev.conveyor.core.ClassifyResult;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * Asynchronous jobs: each submitted image's future result, kept for {@code keep} after it was
 * submitted and at most {@code capacity} at once; the oldest finished ones make room first, and
 * when all are still running a new job is refused (the caller gets 429).
 */
final class Jobs {
  private record Job(CompletableFuture<ClassifyResult> result, long createdNanos) {}

  private final int capacity;
  private final Duration keep;
  private final Map<String, Job> jobs = new LinkedHashMap<>();

  Jobs(int capacity, Duration keep) {
    this.capacity = capacity;
    this.keep = keep;
  }

  /** Adds a job; false when there is no room. */
  synchronized boolean add(String id, CompletableFuture<ClassifyResult> result) {
    expire();
    if (jobs.size() >= capacity) {
      Iterator<Job> it = jobs.values().iterator();
      while (it.hasNext() && jobs.size() >= capacity) {
        if (it.next().result.isDone()) {
          it.remove();
        }
      }
      if (jobs.size() >= capacity) {
        return false;
      }
    }
    jobs.put(id, new Job(result, System.nanoTime()));
    return true;
  }

  /** The job's result future, or null for an unknown or expired id. */
  synchronized CompletableFuture<ClassifyResult> get(String id) {
    expire();
    Job job = jobs.get(id);
    return job == null ? null : job.result;
  }

  private void expire() {
    long oldest = System.nanoTime() - keep.toNanos();
    jobs.values().removeIf(j -> j.createdNanos < oldest && j.result.isDone());
  }
}
