package dev.conveyor.spark;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.JobPlan;
import dev.conveyor.core.engine.JobSettings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamWriter;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryListener;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.util.LongAccumulator;

/**
 * The one assembly of Conveyor's Spark query, whether {@code spark-submit} runs it ({@link
 * ClassifyQuery}) or {@code conveyor spark} does on {@code local[*]} ({@link SparkEngine}): a
 * source read as a stream, each partition of each micro-batch classified in the executors, and a
 * sink, with a checkpoint location always. Every setting is read and checked here, on the driver,
 * before the query starts.
 */
public final class SparkJob {
  private final JobPlan plan;
  private final String source;
  private final String sink;
  private final boolean sql;

  private SparkJob(JobPlan plan) {
    this.plan = plan;
    this.source = plan.source();
    this.sink = plan.sink();
    QuerySources.check(source);
    JobPlan.checkSink(sink);
    ServedModels.read(plan.pipeline(), "query");
    this.sql = plan.sqlFunction();
  }

  /**
   * Reads the query's settings by name, as arguments or options give them.
   *
   * @throws ConveyorException {@code INVALID_SETTING} naming a wrong setting
   */
  public static SparkJob of(Map<String, String> given) {
    return new SparkJob(
        JobPlan.read(
            given,
            "query",
            JobSettings.SPARK,
            PipelineSettings.MODEL_SETTINGS,
            PipelineSettings.FETCH_SETTINGS,
            PipelineSettings.BATCH_SETTINGS,
            PipelineSettings.REPOSITORY_SETTINGS));
  }

  public String name() {
    return plan.name();
  }

  /**
   * Task slots of {@code conveyor spark}'s {@code local[N]}; 0 for {@code local[*]}. On a cluster
   * the executors' cores decide.
   */
  public int parallelism() {
    return plan.parallelism();
  }

  /** Where the query keeps its checkpoint: the setting, or a folder named after source and sink. */
  public String checkpoints() {
    String dir = plan.get(JobSettings.CHECKPOINTS);
    if (dir != null) {
      return dir;
    }
    return Path.of(".conveyor", "spark-checkpoints", digest(source + " -> " + sink))
        .toAbsolutePath()
        .toString();
  }

  private static String digest(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Starts the query on {@code spark}; results come back to {@code listener} when the sink is
   * {@code -}, progress at each micro-batch. Returns once a bounded query ends, or when this thread
   * is interrupted (the query is then stopped).
   */
  public Engine.Report run(SparkSession spark, Engine.Listener listener) throws Exception {
    LongAccumulator results = spark.sparkContext().longAccumulator("conveyor-results");
    LongAccumulator errors = spark.sparkContext().longAccumulator("conveyor-errors");
    Dataset<Row> requests =
        QuerySources.requests(spark, source, plan.get(JobSettings.MAX_PER_BATCH));
    if (parallelism() > 0) {
      // one partition per task slot: each task fills whole batches, with no partial one per file
      // split (no shuffle: the partitions are merged where they are)
      requests = requests.coalesce(parallelism());
    }
    Dataset<Row> classified =
        sql
            ? SqlFunctionQuery.results(spark, requests, plan.pipeline(), results, errors)
            : requests.mapPartitions(
                new ClassifyPartition(plan.pipeline(), results, errors),
                Encoders.row(ClassifyPartition.RESULTS));
    StreamingQueryListener progress = new QueryProgress(results, errors, listener);
    spark.streams().addListener(progress);
    if (JobPlan.isFolder(source)) {
      long empty = QuerySources.emptyFiles(JobPlan.folder(source));
      if (empty > 0) {
        listener.warning(
            empty
                + " empty file(s) in "
                + source
                + " get no result: Spark's file sources do not read zero-length files"
                + " (conveyor classify answers them EMPTY)");
      }
    }
    boolean resumed = JobPlan.isFolder(source) && committed(checkpoints());
    long start = System.nanoTime();
    StreamingQuery query =
        start(
            QuerySinks.writer(
                classified,
                sink,
                plan.get(JobSettings.SINK_LINGER_MS),
                plan.get(JobSettings.FORMAT),
                listener));
    try {
      while (!query.awaitTermination(1000)) {
        if (Thread.interrupted()) {
          throw new InterruptedException("stopped");
        }
      }
    } catch (InterruptedException e) {
      // awaitTermination throws it too: either way the query stops here, not left running, once
      // the batch in flight has ended
      QueryStop.finishBatch(query);
      query.stop();
      throw e;
    } finally {
      spark.streams().removeListener(progress);
      QueryStop.acknowledgeLastBatch(query, source);
    }
    listener.progress(results.value(), errors.value());
    if (resumed && results.value() == 0) {
      listener.warning(
          "every file in "
              + source
              + " was classified by an earlier run that the checkpoint "
              + checkpoints()
              + " remembers: delete that folder, or give --checkpoints another, to classify them"
              + " again");
    }
    return new Engine.Report(results.value(), errors.value(), (System.nanoTime() - start) / 1e9);
  }

  /** Whether a local checkpoint folder holds a micro-batch an earlier run committed. */
  private static boolean committed(String checkpoint) {
    if (checkpoint.contains(":/")) {
      return false; // on another file system: not looked into
    }
    try (Stream<Path> commits = Files.list(Path.of(checkpoint, "commits"))) {
      return commits.findAny().isPresent();
    } catch (IOException | InvalidPathException e) {
      return false;
    }
  }

  private StreamingQuery start(DataStreamWriter<?> writer) throws TimeoutException {
    boolean bounded =
        plan.get(JobSettings.UNTIL_END)
            || (JobPlan.isFolder(source) && !plan.get(JobSettings.WATCH));
    int ms = plan.get(JobSettings.TRIGGER_MS);
    Trigger trigger = bounded ? Trigger.AvailableNow() : Trigger.ProcessingTime(ms);
    return writer
        .queryName("conveyor")
        .option("checkpointLocation", checkpoints())
        .trigger(trigger)
        .start();
  }
}
