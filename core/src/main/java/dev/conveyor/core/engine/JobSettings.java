package dev.conveyor.core.engine;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;

/**
 * The settings of a job on a stream engine, besides the pipeline's: where requests come from, where
 * results go, how many parallel tasks, checkpoints, and how long a result may wait in a sink.
 */
public final class JobSettings {
  private JobSettings() {}

  public static final Setting<String> SOURCE =
      Setting.text(
          "source",
          "URI",
          "where requests come from: a folder of images (read once), kafka://host:port?topic=…, or redis://host:port?mode=stream&images=…",
          s -> !s.isBlank(),
          "a folder or a broker URI");
  public static final Setting<String> SINK =
      Setting.text(
              "sink",
              "URI",
              "where results go: - (JSON lines on stdout), a folder (JSON-lines files), kafka://… or redis://…",
              s -> !s.isBlank(),
              "-, a folder or a broker URI")
          .withDefault("-", "-");
  public static final Setting<Integer> PARALLELISM =
      Setting.integer(
              "parallelism",
              0,
              0,
              "parallel tasks, each with its own model (0: the cluster's default, as flink run -p sets it; locally 2)")
          .withDefault(0, "the cluster's");
  public static final Setting<Integer> CHECKPOINT_MS =
      Setting.integer(
          "checkpoint-ms",
          10_000,
          0,
          "checkpoint interval in milliseconds; a broker source acknowledges what it read once a checkpoint covers its results (0: no checkpoints; a Redis stream's entries are then acknowledged by the sink once their results are stored)");
  public static final Setting<Integer> SINK_LINGER_MS =
      Setting.integer(
          "sink-linger-ms",
          100,
          0,
          "longest a result waits in a sink for others to be written with it (a full group, a checkpoint and the end are written at once): on Flink a timer, so results reach a store within it, with or without checkpoints; on Spark looked at as each result comes, and a micro-batch's partition writes what it holds as it ends");
  public static final Setting<String> CHECKPOINTS =
      Setting.text(
          "checkpoints",
          "DIR",
          "where checkpoints are kept (a folder or URI the engine can write), retained after a cancel so the job can start again from them",
          s -> !s.isBlank(),
          "a folder or a URI");
  public static final Setting<String> RESTORE =
      Setting.text(
          "restore",
          "DIR",
          "start from this retained checkpoint or savepoint (a chk-N folder, or a checkpoints folder to take its latest)",
          s -> !s.isBlank(),
          "a folder or a URI");
  public static final Setting<Boolean> UNTIL_END =
      Setting.flag(
          "until-end",
          "read a broker source until it has nothing more (Kafka: up to its end offsets when the job starts), then finish");

  public static final Setting<Boolean> WATCH =
      Setting.flag(
          "watch", "a folder source keeps watching for new files instead of ending once read");
  public static final Setting<Integer> TRIGGER_MS =
      Setting.integer(
          "trigger-ms",
          0,
          0,
          "milliseconds between micro-batches (0: each starts as soon as the previous ends)");

  public static final Setting<String> FORMAT =
      Setting.choice(
          "format",
          "json",
          "what a folder sink writes: json (JSON lines, the result as every path prints it) or parquet (its fields as columns)",
          "json",
          "parquet");
  public static final Setting<String> API =
      Setting.choice(
          "api",
          "operator",
          "how the job classifies: operator (Conveyor's batching operator, as ConveyorStreams.classify and the Structured Streaming query run it) or sql (the SQL function classify in a query over a folder source, as a user's own query calls it: SELECT classify(content) FROM …)",
          "operator",
          "sql");
  public static final Setting<Integer> MAX_PER_BATCH =
      Setting.integer(
          "max-per-batch",
          1024,
          1,
          "most images (files, records or stream entries) in one micro-batch");

  /** A job on Flink: {@code conveyor flink}, {@code flink run}. */
  public static final SettingGroup FLINK =
      SettingGroup.of(
          "Job settings (conveyor flink, flink run)",
          SOURCE,
          SINK,
          PARALLELISM,
          CHECKPOINT_MS,
          SINK_LINGER_MS,
          CHECKPOINTS,
          RESTORE,
          UNTIL_END,
          API);

  /** A query on Spark: {@code conveyor spark}, {@code spark-submit}. */
  public static final SettingGroup SPARK =
      SettingGroup.of(
          "Query settings (conveyor spark, spark-submit)",
          SOURCE,
          SINK,
          PARALLELISM.withDefault(0, "local[*]"),
          CHECKPOINTS,
          UNTIL_END,
          WATCH,
          TRIGGER_MS,
          MAX_PER_BATCH,
          SINK_LINGER_MS,
          FORMAT,
          API);
}
