package dev.conveyor.flink;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.JobPlan;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.fetch.FetchSettings;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * The one assembly of Conveyor's Flink job, whether {@code flink run} submits it ({@link
 * ClassifyJob}) or {@code conveyor flink} runs it on an embedded cluster ({@link FlinkEngine}):
 * source, then the classify operator, then the sink, with checkpoints on by default. Every setting
 * is read and checked here, on the client, before anything is submitted.
 */
public final class FlinkJob {
  private final JobPlan plan;
  private final JobSources.Source source;
  private final String sink;
  private final boolean exactlyOnce;
  private final Map<String, String> pipeline;
  private final boolean sql;

  private FlinkJob(JobPlan plan) {
    this.plan = plan;
    this.source = JobSources.parse(plan.source());
    this.sink = plan.sink();
    JobPlan.checkSink(sink);
    this.exactlyOnce = JobSinks.exactlyOnce(sink);
    if (exactlyOnce && plan.get(JobSettings.CHECKPOINT_MS) == 0) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "delivery=exactly-once on the sink needs checkpoints: a Kafka sink commits its"
              + " transaction, and a source its offsets, when a checkpoint completes; give"
              + " --checkpoint-ms a positive interval");
    }
    if (plan.get(JobSettings.CHECKPOINT_MS) == 0) {
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
    this.sql = plan.sqlFunction();
    Map<String, String> p = plan.pipeline();
    if (source instanceof JobSources.Folder f) {
      // the operator named this folder: its files may be read, beside what --fetch-allow allows
      String allowed =
          p.getOrDefault(FetchSettings.FETCH_ALLOW.name(), FetchSettings.FETCH_ALLOW.defaultText());
      p.put(
          FetchSettings.FETCH_ALLOW.name(),
          allowed + ",file:" + f.folder().toAbsolutePath().normalize());
    }
    this.pipeline = p;
    ClassifyOperator.forJob(pipeline); // checks the pipeline's settings
  }

  /**
   * Reads the job's settings by name, as job arguments or options give them.
   *
   * @throws ConveyorException {@code INVALID_SETTING} naming a wrong setting
   */
  public static FlinkJob of(Map<String, String> given) {
    return new FlinkJob(
        JobPlan.read(
            given,
            "job",
            JobSettings.FLINK,
            PipelineSettings.MODEL_SETTINGS,
            PipelineSettings.FETCH_SETTINGS,
            PipelineSettings.BATCH_SETTINGS,
            PipelineSettings.REPOSITORY_SETTINGS));
  }

  public String name() {
    return plan.name();
  }

  /** Parallel tasks the settings ask for; 0 for the environment's default. */
  public int parallelism() {
    return plan.parallelism();
  }

  /**
   * What the environment needs before the job is built: where checkpoints are kept, and the
   * checkpoint to start from.
   */
  public Configuration configuration() {
    return Checkpoints.configuration(
        plan.get(JobSettings.CHECKPOINTS), plan.get(JobSettings.RESTORE));
  }

  /**
   * Builds the job on {@code env}: source, {@code tap} (the identity, but for tests that inject
   * faults), classification, and the sink unless results go to the client.
   *
   * @return the results, as they leave the classify operator
   */
  public DataStream<Classified> build(
      StreamExecutionEnvironment env, UnaryOperator<DataStream<Incoming>> tap) {
    int ms = plan.get(JobSettings.CHECKPOINT_MS);
    if (sql && plan.get(JobSettings.CHECKPOINTS) == null) {
      // the SQL function's calls in flight, their images with them, are part of every checkpoint:
      // more than the JobManager's memory keeps (5 MB). Without a folder for them, a folder is
      // read once, and read again from its start should the job fail
      ms = 0;
    }
    if (ms > 0) {
      // exactly once, barriers are aligned: no result of a record after a checkpoint's barrier is
      // written in the transaction of the checkpoint before it
      env.enableCheckpointing(
          ms, exactlyOnce ? CheckpointingMode.EXACTLY_ONCE : CheckpointingMode.AT_LEAST_ONCE);
    }
    if (parallelism() > 0) {
      env.setParallelism(parallelism());
    }
    // operators carry fixed ids, so a job restarts from a checkpoint of an earlier version of
    // itself
    DataStream<Classified> results;
    if (sql) {
      results =
          SqlFunctionJob.results(env, ((JobSources.Folder) source).folder().toString(), pipeline);
    } else {
      DataStream<Incoming> requests =
          JobSources.requests(env, source, ms > 0, plan.get(JobSettings.UNTIL_END));
      results =
          tap.apply(requests)
              .transform(
                  "classify",
                  TypeInformation.of(Classified.class),
                  ClassifyOperator.forJob(pipeline))
              .uid("conveyor-classify");
    }
    if (!sink.equals(JobPlan.STDOUT)) {
      JobSinks.attach(
          results, sink, plan.get(JobSettings.SINK_LINGER_MS), acksTo(), transactions());
    }
    return results;
  }

  /**
   * The prefix of an exactly-once Kafka sink's transactional ids: the same for the same source and
   * sink (a job restarted from its checkpoint aborts what its earlier run left open), different for
   * another job, and with nothing of either URI in it (they may hold credentials).
   */
  private String transactions() {
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update((plan.source() + "\n" + sink).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    return "conveyor-" + Long.toHexString(crc.getValue());
  }

  /**
   * The Redis stream source whose entries the sink acknowledges once it has stored their results:
   * without checkpoints; {@code null} when the source acknowledges at checkpoints, or has nothing
   * to acknowledge.
   */
  private String acksTo() {
    return plan.get(JobSettings.CHECKPOINT_MS) == 0 && source instanceof JobSources.RedisStream r
        ? r.uri()
        : null;
  }

  /**
   * Builds the job on {@code env} and submits it, without waiting for it: a detached run's.
   *
   * @throws ConveyorException {@code INVALID_SETTING} for the sink {@code -}, whose results only a
   *     client that stays attached can collect
   */
  public JobClient submit(StreamExecutionEnvironment env) throws Exception {
    if (sink.equals(JobPlan.STDOUT)) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "--sink - sends the results back to the client, which a detached run (flink run -d)"
              + " does not keep: give a sink (kafka://…, redis://…, postgresql://… or a folder),"
              + " or run attached");
    }
    build(env, UnaryOperator.identity());
    return env.executeAsync(name());
  }

  /**
   * Builds the job on {@code env} and runs it until a bounded source is used up (or this thread is
   * interrupted, which stops it: {@link JobStop}). Results come back to {@code listener} when the
   * sink is {@code -}; progress comes about once a second either way.
   */
  public Engine.Report run(
      StreamExecutionEnvironment env,
      UnaryOperator<DataStream<Incoming>> tap,
      Engine.Listener listener)
      throws Exception {
    DataStream<Classified> results = build(env, tap);
    long start = System.nanoTime();
    JobStop stop = new JobStop(plan.get(JobSettings.CHECKPOINT_MS) > 0);
    if (sink.equals(JobPlan.STDOUT)) {
      return ClientResults.run(env, results, name(), acksTo(), stop, listener, start);
    }
    JobClient job = env.executeAsync(name());
    CompletableFuture<JobExecutionResult> done = job.getJobExecutionResult();
    try {
      while (true) {
        try {
          long[] counts =
              JobProgress.tell(done.get(1, TimeUnit.SECONDS).getAllAccumulatorResults(), listener);
          return new Engine.Report(counts[0], counts[1], (System.nanoTime() - start) / 1e9);
        } catch (TimeoutException running) {
          JobProgress.poll(job, listener);
        }
      }
    } catch (InterruptedException | CancellationException e) {
      stop.stop(job, done);
      // a drained job's final counts, for the line the run ends with
      if (done.isDone() && !done.isCompletedExceptionally() && !done.isCancelled()) {
        JobProgress.tell(done.getNow(null).getAllAccumulatorResults(), listener);
      }
      throw e;
    }
  }
}
