package dev.conveyor.spark;

import dev.conveyor.redis.RedisConfig;
import org.apache.spark.sql.streaming.SourceProgress;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryStatus;
import org.slf4j.LoggerFactory;

/**
 * How the query ends when the thread that runs it is interrupted, so that a stop loses nothing and
 * leaves nothing pending: the micro-batch in flight is let finish, and once the query has stopped
 * the last batch's Redis stream entries are acknowledged.
 */
final class QueryStop {
  /** The longest a stop waits for the micro-batch in flight to end. */
  private static final long FINISH_SECONDS = 20;

  private QueryStop() {}

  /**
   * Waits, for at most {@value #FINISH_SECONDS} s, until the query runs no batch: stopping it
   * during one would cut the batch short (its results partly stored, its entries pending until a
   * restart runs it again). No batch runs once the query's status has shown no trigger at work, or
   * a trigger with no new data, for longer than one trigger's look for data (the Redis source waits
   * up to 0.1 s for entries).
   */
  static void finishBatch(StreamingQuery query) {
    long deadline = System.nanoTime() + FINISH_SECONDS * 1_000_000_000L;
    long quietSince = 0;
    while (query.isActive() && System.nanoTime() < deadline) {
      StreamingQueryStatus status = query.status();
      if (status.isTriggerActive() && status.isDataAvailable()) {
        quietSince = 0;
      } else if (quietSince == 0) {
        quietSince = System.nanoTime();
      } else if (System.nanoTime() - quietSince > 250_000_000L) {
        return;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException again) {
        // a second interrupt: stop now
        return;
      }
    }
  }

  /**
   * Once the query has stopped: a Redis stream's entries are acknowledged when the next batch is
   * planned, so those of the last batch that ran (its results are in the sink) are acknowledged
   * here, from the query's last progress, and a stopped query leaves nothing pending.
   */
  static void acknowledgeLastBatch(StreamingQuery query, String source) {
    if (!RedisConfig.handles(source) || query.isActive() || query.lastProgress() == null) {
      return;
    }
    try {
      for (SourceProgress p : query.lastProgress().sources()) {
        RedisMicroBatchSource.acknowledge(source, p.endOffset());
      }
    } catch (RuntimeException e) {
      // its entries stay pending, and a restarted query reads them again: a duplicate, no loss
      LoggerFactory.getLogger(QueryStop.class)
          .warn("could not acknowledge the last batch's entries (they will be read again)", e);
    }
  }
}
