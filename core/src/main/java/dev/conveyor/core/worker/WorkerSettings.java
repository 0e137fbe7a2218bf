package dev.conveyor.core.worker;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.Settings;
import java.time.Duration;

/** How workers batch, and how many run in a process, declared once. */
public final class WorkerSettings {
  private WorkerSettings() {}

  /** Batches in flight at once: one in the model, the others being preprocessed. */
  static final int PIPELINE_DEPTH = 3;

  public static final Setting<Integer> BATCH =
      Setting.integer("batch", 8, 1, "most images per model call");
  public static final Setting<Integer> LINGER_MS =
      Setting.integer(
          "linger-ms",
          5,
          0,
          "how long a batch may wait for more images after its first, while earlier batches hold the model (an idle model starts at once)");
  public static final Setting<Integer> PREPROCESS_THREADS =
      Setting.integer(
              "preprocess-threads",
              Runtime.getRuntime().availableProcessors(),
              1,
              "threads decoding and preprocessing while the model runs")
          .withDefault(Runtime.getRuntime().availableProcessors(), "one per core");
  public static final Setting<Integer> WORKERS =
      Setting.integer(
              "workers",
              1,
              0,
              "workers in this process, sharing the model: at least 1 on the embedded transport; with a broker, serve may run 0 (workers elsewhere take the requests)")
          .withDefault(null, "1; for serve with a broker, 0");

  /** A worker's configuration from these settings (the defaults for those not given). */
  public static WorkerConfig config(Settings s) {
    return new WorkerConfig(
        s.get(BATCH),
        Duration.ofMillis(s.get(LINGER_MS)),
        s.get(PREPROCESS_THREADS),
        PIPELINE_DEPTH);
  }
}
