package dev.conveyor.flink;

import dev.conveyor.core.engine.Engine;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

/**
 * The sink {@code -}: the job's results collected back to the client and handed to the listener as
 * they come, on a thread of their own, so that an interrupt of the running thread stops the job
 * whatever the results do. Without checkpoints, a Redis stream's entries are acknowledged here,
 * once their results are out.
 */
final class ClientResults {
  private ClientResults() {}

  /**
   * Runs the job and hands each result to the listener; the results the stopping job still writes
   * are handed over before this returns.
   *
   * @param acksTo the Redis stream whose entries this sink acknowledges; {@code null} for none
   * @param start when the run started, for the report's runtime
   */
  static Engine.Report run(
      StreamExecutionEnvironment env,
      DataStream<Classified> results,
      String name,
      String acksTo,
      JobStop stop,
      Engine.Listener listener,
      long start)
      throws Exception {
    CloseableIterator<Classified> collected = results.collectAsync();
    JobClient job = env.executeAsync(name);
    CompletableFuture<JobExecutionResult> done = job.getJobExecutionResult();
    long[] counts = new long[2];
    CompletableFuture<Void> printed =
        CompletableFuture.runAsync(
            () -> {
              long reported = System.nanoTime();
              try (SourceAcks acks = acksTo == null ? null : new SourceAcks(acksTo)) {
                while (collected.hasNext()) {
                  Classified c = collected.next();
                  synchronized (counts) {
                    counts[0]++;
                    if (!c.ok()) {
                      counts[1]++;
                    }
                  }
                  listener.result(c.json());
                  if (acks != null && c.entry() != null) {
                    // the client is this sink: the result is out, its entry is done
                    acks.acknowledge(List.of(c.entry()));
                  }
                  if (System.nanoTime() - reported > 1_000_000_000L) {
                    synchronized (counts) {
                      listener.progress(counts[0], counts[1]);
                    }
                    reported = System.nanoTime();
                  }
                }
              }
            },
            task -> {
              Thread t = new Thread(task, "conveyor-results");
              t.setDaemon(true);
              t.start();
            });
    try {
      printed.get();
    } catch (InterruptedException e) {
      stop.stop(job, done);
      try {
        printed.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException ended) {
        // a cancelled job's results end with its cancellation
      }
      synchronized (counts) {
        listener.progress(counts[0], counts[1]);
      }
      throw e;
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } finally {
      collected.close();
    }
    synchronized (counts) {
      listener.progress(counts[0], counts[1]);
      return new Engine.Report(counts[0], counts[1], (System.nanoTime() - start) / 1e9);
    }
  }
}
