package dev.conveyor.flink;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.ExternalizedCheckpointRetention;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one assembly of Conveyor's Flink job, whether {@code flink run} submits it ({@link
 * ClassifyJob}) or {@code conveyor flink} runs it on an embedded cluster ({@link FlinkEngine}):
 * source, then the classify operator, then the sink, with checkpoints on by default. Every setting
 * is read and checked here, on the client, before anything is submitted.
 */
public final class FlinkJob {
  private static final Logger LOG = LoggerFactory.getLogger(FlinkJob.class);

  /** The job's settings: its own, then the pipeline's. */
  public static final SettingGroup[] SETTINGS = {
    JobSettings.FLINK,
    PipelineSettings.MODEL_SETTINGS,
    PipelineSettings.FETCH_SETTINGS,
    PipelineSettings.BATCH_SETTINGS
  };

  private final Settings settings;
  private final JobSources.Source source;
  private final String sink;
  private final Map<String, String> pipeline;

  private FlinkJob(Settings settings) {
    this.settings = settings;
    String from = settings.get(JobSettings.SOURCE);
    if (from == null) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "give --source: a folder, kafka://host:port?topic=… or redis://host:port?mode=stream");
    }
    this.source = JobSources.parse(from);
    this.sink = settings.get(JobSettings.SINK);
    JobSinks.check(sink);
    if (settings.get(JobSettings.CHECKPOINT_MS) == 0) {
      if (source instanceof JobSources.Kafka) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "--checkpoint-ms 0 with a Kafka source: Flink commits a Kafka source's offsets only when"
                + " a checkpoint completes, so without checkpoints the group's offsets would never"
                + " move (and committing them automatically would cover records whose results are"
                + " not stored yet); give --checkpoint-ms a positive interval, or use conveyor"
                + " worker");
      }
      if (source instanceof JobSources.RedisStream && !JobSinks.acknowledges(sink)) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "--checkpoint-ms 0 with a Redis stream source needs a sink that acknowledges the"
                + " stream's entries once it has stored their results (redis://…, a folder or -);"
                + " Flink's Kafka sink confirms its writes only at checkpoints: give"
                + " --checkpoint-ms a positive interval");
      }
    }
    Map<String, String> p = new LinkedHashMap<>(settings.given());
    JobSettings.FLINK.settings().forEach(s -> p.remove(s.name()));
    if (source instanceof JobSources.Folder f) {
      // the operator named this folder: its files may be read, beside what --fetch-allow allows
      String allowed =
          p.getOrDefault(FetchSettings.FETCH_ALLOW.name(), FetchSettings.FETCH_ALLOW.defaultText());
      p.put(
          FetchSettings.FETCH_ALLOW.name(),
          allowed + ",file:" + f.folder().toAbsolutePath().normalize());
    }
    this.pipeline = p;
    new ClassifyOperator(pipeline); // checks the pipeline's settings
  }

  /**
   * Reads the job's settings by name, as job arguments or options give them.
   *
   * @throws ConveyorException {@code INVALID_SETTING} naming a wrong setting
   */
  public static FlinkJob of(Map<String, String> given) {
    return new FlinkJob(Settings.read(given, "job", SETTINGS));
  }

  public String name() {
    return "conveyor: classify " + settings.get(JobSettings.SOURCE);
  }

  /** Parallel tasks the settings ask for; 0 for the environment's default. */
  public int parallelism() {
    return settings.get(JobSettings.PARALLELISM);
  }

  /**
   * What the environment needs before the job is built: where checkpoints are kept, and the
   * checkpoint to start from.
   */
  public Configuration configuration() {
    Configuration c = new Configuration();
    String dir = settings.get(JobSettings.CHECKPOINTS);
    if (dir != null) {
      c.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
      c.set(CheckpointingOptions.CHECKPOINTS_DIRECTORY, uri(dir));
      c.set(
          CheckpointingOptions.EXTERNALIZED_CHECKPOINT_RETENTION,
          ExternalizedCheckpointRetention.RETAIN_ON_CANCELLATION);
    }
    String restore = settings.get(JobSettings.RESTORE);
    if (restore != null) {
      c.set(StateRecoveryOptions.SAVEPOINT_PATH, latestCheckpoint(restore));
    }
    return c;
  }

  /**
   * Builds the job on {@code env}: source, {@code tap} (the identity, but for tests that inject
   * faults), classification, and the sink unless results go to the client.
   *
   * @return the results, as they leave the classify operator
   */
  public DataStream<Classified> build(
      StreamExecutionEnvironment env, UnaryOperator<DataStream<Incoming>> tap) {
    int ms = settings.get(JobSettings.CHECKPOINT_MS);
    if (ms > 0) {
      env.enableCheckpointing(ms, CheckpointingMode.AT_LEAST_ONCE);
    }
    if (parallelism() > 0) {
      env.setParallelism(parallelism());
    }
    // operators carry fixed ids, so a job restarts from a checkpoint of an earlier version of
    // itself
    DataStream<Incoming> requests =
        JobSources.requests(env, source, ms > 0, settings.get(JobSettings.UNTIL_END));
    DataStream<Classified> results =
        tap.apply(requests)
            .transform(
                "classify", TypeInformation.of(Classified.class), new ClassifyOperator(pipeline))
            .uid("conveyor-classify");
    if (!sink.equals(JobSinks.STDOUT)) {
      JobSinks.attach(results, sink, settings.get(JobSettings.SINK_LINGER_MS), acksTo());
    }
    return results;
  }

  /**
   * The Redis stream source whose entries the sink acknowledges once it has stored their results:
   * without checkpoints; {@code null} when the source acknowledges at checkpoints, or has nothing
   * to acknowledge.
   */
  private String acksTo() {
    return settings.get(JobSettings.CHECKPOINT_MS) == 0
            && source instanceof JobSources.RedisStream r
        ? r.uri()
        : null;
  }

  /**
   * Builds the job on {@code env} and runs it until a bounded source is used up (or this thread is
   * interrupted, which stops it: {@link #stop}). Results come back to {@code listener} when the
   * sink is {@code -}; progress comes about once a second either way.
   */
  public Engine.Report run(
      StreamExecutionEnvironment env,
      UnaryOperator<DataStream<Incoming>> tap,
      Engine.Listener listener)
      throws Exception {
    DataStream<Classified> results = build(env, tap);
    long start = System.nanoTime();
    if (sink.equals(JobSinks.STDOUT)) {
      return toClient(env, results, listener, start);
    }
    JobClient job = env.executeAsync(name());
    CompletableFuture<JobExecutionResult> done = job.getJobExecutionResult();
    try {
      while (true) {
        try {
          long[] counts = tell(done.get(1, TimeUnit.SECONDS).getAllAccumulatorResults(), listener);
          return new Engine.Report(counts[0], counts[1], (System.nanoTime() - start) / 1e9);
        } catch (TimeoutException running) {
          progress(job, listener);
        }
      }
    } catch (InterruptedException | CancellationException e) {
      stop(job, done);
      // a drained job's final counts, for the line the run ends with
      if (done.isDone() && !done.isCompletedExceptionally() && !done.isCancelled()) {
        tell(done.getNow(null).getAllAccumulatorResults(), listener);
      }
      throw e;
    }
  }

  /**
   * Runs the job and hands each result to the listener as it comes, on a thread of its own, so that
   * an interrupt of this one stops the job (as {@link #stop} does) whatever the results do; the
   * results the stopping job still writes are handed over before this returns.
   */
  private Engine.Report toClient(
      StreamExecutionEnvironment env,
      DataStream<Classified> results,
      Engine.Listener listener,
      long start)
      throws Exception {
    CloseableIterator<Classified> collected = results.collectAsync();
    JobClient job = env.executeAsync(name());
    CompletableFuture<JobExecutionResult> done = job.getJobExecutionResult();
    long[] counts = new long[2];
    String acksTo = acksTo();
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
      stop(job, done);
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

  /**
   * Stops the job. With checkpoints, it is cancelled: its sources commit only what a completed
   * checkpoint covers, and it starts again from there. Without, it is stopped cleanly (a
   * stop-with-savepoint that drains it: sources stop reading, every operator and sink writes what
   * it holds, and the sinks acknowledge the entries they stored), so nothing is left pending; it is
   * cancelled if that fails.
   */
  private void stop(JobClient job, CompletableFuture<JobExecutionResult> done) throws Exception {
    if (settings.get(JobSettings.CHECKPOINT_MS) > 0) {
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

  /** Tells the listener the job's counts, if the cluster answers in time: progress only. */
  private static void progress(JobClient job, Engine.Listener listener)
      throws InterruptedException {
    try {
      tell(job.getAccumulators().get(5, TimeUnit.SECONDS), listener);
    } catch (ExecutionException | TimeoutException | IllegalStateException e) {
      // a busy cluster, or the job just ending (a local cluster shuts down with its job, and
      // then refuses the question): the next round tells
    }
  }

  /** Tells the listener the results and errors the accumulators count; returns both. */
  private static long[] tell(Map<String, Object> accumulators, Engine.Listener listener) {
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

  private static String uri(String dir) {
    return dir.contains("://") ? dir : Path.of(dir).toAbsolutePath().toUri().toString();
  }

  /**
   * A checkpoint or savepoint folder as given, or the newest completed checkpoint ({@code
   * chk-N/_metadata}) under a checkpoints folder.
   */
  static String latestCheckpoint(String given) {
    if (given.contains("://") && !given.startsWith("file:")) {
      return given;
    }
    Path dir = given.startsWith("file:") ? Path.of(java.net.URI.create(given)) : Path.of(given);
    if (Files.exists(dir.resolve("_metadata"))) {
      return dir.toAbsolutePath().toUri().toString();
    }
    try (Stream<Path> found = Files.walk(dir, 3)) {
      return found
          .filter(p -> p.getFileName().toString().equals("_metadata"))
          .map(Path::getParent)
          .filter(p -> p.getFileName().toString().startsWith("chk-"))
          .max(
              Comparator.comparingLong(
                  p -> Long.parseLong(p.getFileName().toString().substring(4))))
          .map(p -> p.toAbsolutePath().toUri().toString())
          .orElseThrow(
              () ->
                  new ConveyorException(
                      ErrorCode.INVALID_SETTING,
                      "no completed checkpoint (chk-N/_metadata) under " + dir));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
