package dev.conveyor.server;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;

/** Results, errors and latency of one model's version, as this server answered them. */
final class ModelCounts {
  final String model;
  final Long version;
  final LongAdder ok = new LongAdder();
  final LongAdder errors = new LongAdder();
  final ConcurrentHistogram latencyMicros = new ConcurrentHistogram(3);

  ModelCounts(String model, Long version) {
    this.model = model;
    this.version = version;
  }

  void count(boolean isOk, long micros) {
    (isOk ? ok : errors).increment();
    latencyMicros.recordValue(Math.max(1, micros));
  }

  Map<String, Object> json() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", model);
    m.put("version", version);
    m.put("ok", ok.sum());
    m.put("errors", errors.sum());
    m.put("p50_ms", latencyMicros.getValueAtPercentile(50) / 1000.0);
    m.put("p99_ms", latencyMicros.getValueAtPercentile(99) / 1000.0);
    return m;
  }
}
