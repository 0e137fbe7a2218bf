package dev.conveyor.spark;

import dev.conveyor.core.engine.Engine;
import org.apache.spark.sql.streaming.StreamingQueryListener;
import org.apache.spark.util.LongAccumulator;

/**
 * Tells the listener, at each micro-batch's end, the results and errors the executors have counted
 * so far, and Spark's own word on the batch: rows/s in and processed, and its duration.
 */
final class QueryProgress extends StreamingQueryListener {
  private final LongAccumulator results;
  private final LongAccumulator errors;
  private final Engine.Listener listener;

  QueryProgress(LongAccumulator results, LongAccumulator errors, Engine.Listener listener) {
    this.results = results;
    this.errors = errors;
    this.listener = listener;
  }

  @Override
  public void onQueryStarted(QueryStartedEvent event) {}

  @Override
  public void onQueryProgress(QueryProgressEvent event) {
    listener.progress(results.value(), errors.value());
    listener.status(
        "%.1f rows/s in, %.1f processed, batch %d ms"
            .formatted(
                event.progress().inputRowsPerSecond(),
                event.progress().processedRowsPerSecond(),
                event.progress().batchDuration()));
  }

  @Override
  public void onQueryTerminated(QueryTerminatedEvent event) {}
}
