package dev.conveyor.flink;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How a running job is stopped when the thread that runs it is interrupted. With checkpoints, it is
 * cancelled: its sources commit only what a completed checkpoint covers, and it starts again from
 * there. Without, it is stopped cleanly (a stop-with-savepoint that drains it: sources stop
 * reading, every operator and sink writes what it holds, and the sinks acknowledge the entries they
 * stored), so nothing is left pending; it is cancelled if that fails.
 */
final class JobStop {
  private static final Logger LOG = LoggerFactory.getLogger(JobStop.class);

  private final boolean checkpointed;

  /**
   * @param checkpointed whether the job takes checkpoints
   */
  JobStop(boolean checkpointed) {
    this.checkpointed = checkpointed;
  }

  /** Stops the job, and waits for it to end. */
  void stop(JobClient job, CompletableFuture<JobExecutionResult> done) throws Exception {
    if (checkpointed) {
      job.cancel().get(30, TimeUnit.SECONDS);
      return;
    }
    Path savepoints = Files.createTempDirectory("conveyor-stop-");
    try {
      job.stopWithSavepoint(true, savepoints.toUri().toString(), SavepointFormatType.CANONICAL)
          .get(60, TimeUnit.SECONDS);
      done.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("could not stop the job cleanly; cancelling it", e);
      job.cancel().get(30, TimeUnit.SECONDS);
    } finally {
      deleteTree(savepoints);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      LOG.debug("could not delete {}", dir, e);
    }
  }
}
