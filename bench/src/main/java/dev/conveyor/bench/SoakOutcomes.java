package dev.conveyor.bench;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Recorder;

/**
 * What became of each request of a soak, counted as the targets report it from their own threads:
 * the requests still waiting for an answer (by id, with when they were made), the counts of each
 * outcome, and the latency of what was answered.
 */
final class SoakOutcomes {
  final Map<String, Long> waiting = new ConcurrentHashMap<>();
  final LongAdder accepted = new LongAdder();
  final LongAdder refused = new LongAdder();
  final LongAdder failed = new LongAdder();
  final LongAdder answered = new LongAdder();
  final Recorder latency = new Recorder(3);

  /** Counts the answer to a waiting request, and its latency when it is a good one. */
  void answered(String id, boolean ok) {
    Long made = waiting.remove(id);
    if (made != null) {
      if (ok) {
        answered.increment();
        latency.recordValue(Math.max(1, (System.nanoTime() - made) / 1000));
      } else {
        failed.increment();
      }
    }
  }
}
