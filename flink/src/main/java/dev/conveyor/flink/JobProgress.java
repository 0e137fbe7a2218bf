package dev.conveyor.flink;

import dev.conveyor.core.engine.Engine;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.core.execution.JobClient;

/**
 * The job's counts of results and errors, as the classify operator's accumulators keep them, told
 * to the listener.
 */
final class JobProgress {
  private JobProgress() {}

  /** Tells the listener the job's counts, if the cluster answers in time: progress only. */
  static void poll(JobClient job, Engine.Listener listener) throws InterruptedException {
    try {
      tell(job.getAccumulators().get(5, TimeUnit.SECONDS), listener);
    } catch (ExecutionException | TimeoutException | IllegalStateException e) {
      // a busy cluster, or the job just ending (a local cluster shuts down with its job, and
      // then refuses the question): the next round tells
    }
  }

  /** Tells the listener the results and errors the accumulators count; returns both. */
  static long[] tell(Map<String, Object> accumulators, Engine.Listener listener) {
    long[] counts = {
      counter(accumulators, ClassifyOperator.RESULTS),
      counter(accumulators, ClassifyOperator.ERRORS)
    };
    listener.progress(counts[0], counts[1]);
    return counts;
  }

  private static long counter(Map<String, Object> accumulators, String name) {
    return accumulators.get(name) instanceof Number n ? n.longValue() : 0;
  }
}
