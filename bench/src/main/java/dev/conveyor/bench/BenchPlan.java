package dev.conveyor.bench;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.Pipelines;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What one {@link Bench#run bench run} measures, so that a command, a test or a job can ask for the
 * same run: the pipeline already opened and the settings it was opened from (they size threads,
 * batches and queues), the images to send, the seconds each measurement lasts, the broker to run
 * the pipeline stage through (empty: the embedded transport), and the numbers of HTTP callers to
 * load the server with (empty: no HTTP stage).
 *
 * @param broker a broker URI such as {@code redis://127.0.0.1:6379?mode=stream}, read by {@link
 *     dev.conveyor.core.transport.Brokers} when the run starts
 * @param engine a stream engine to run the same pipeline in as a job ({@code flink}), found by
 *     {@link dev.conveyor.core.engine.Engines}; empty: none
 * @param parallelism the engine job's parallel tasks
 */
public record BenchPlan(
    Pipeline pipeline,
    Settings settings,
    Corpus corpus,
    double seconds,
    Optional<String> broker,
    List<Integer> http,
    Optional<String> engine,
    int parallelism) {

  /** A plan without an engine stage. */
  public BenchPlan(
      Pipeline pipeline,
      Settings settings,
      Corpus corpus,
      double seconds,
      Optional<String> broker,
      List<Integer> http) {
    this(pipeline, settings, corpus, seconds, broker, http, Optional.empty(), 1);
  }

  /**
   * @throws ConveyorException {@code INVALID_SETTING} for seconds that are not positive or a number
   *     of HTTP callers below 1
   */
  public BenchPlan {
    Objects.requireNonNull(pipeline, "pipeline");
    Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(corpus, "corpus");
    Objects.requireNonNull(broker, "broker");
    Objects.requireNonNull(engine, "engine");
    if (parallelism < 1) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "parallel tasks must be at least 1, not " + parallelism);
    }
    http = List.copyOf(http);
    if (!(seconds > 0) || Double.isInfinite(seconds)) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "seconds per measurement must be above 0, not " + seconds);
    }
    for (int callers : http) {
      if (callers < 1) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING, "HTTP callers must be at least 1, not " + callers);
      }
    }
  }

  /** The same plan with its pipeline stage through the broker at {@code uri}. */
  BenchPlan withBroker(String uri) {
    return new BenchPlan(
        pipeline, settings, corpus, seconds, Optional.of(uri), http, engine, parallelism);
  }

  /**
   * What carries the pipeline stage, for the report: the transport's name, after {@code tensors}
   * when requests carry them or the store their images are fetched from ({@code s3 → kafka}) and
   * before the sink results also go to ({@code kafka → postgresql}).
   */
  String path(String transport) {
    String name = transport;
    if (corpus.byTensor()) {
      name = "tensors → " + name;
    }
    if (corpus.byKey()) {
      name = scheme(corpus.keys().get(0)) + " → " + name;
    }
    String sink = settings.get(PipelineSettings.RESULTS_TO);
    if (sink != null) {
      name = name + " → " + scheme(sink);
    }
    return name;
  }

  private static String scheme(String uri) {
    int colon = uri.indexOf("://");
    return colon > 0 ? uri.substring(0, colon) : "file";
  }

  /** Threads the model runs on; 0 is ONNX Runtime's default. */
  int modelThreads() {
    return settings.get(PipelineSettings.THREADS);
  }

  int preprocessThreads() {
    return settings.get(PipelineSettings.PREPROCESS_THREADS);
  }

  /**
   * Requests in flight that keep every stage of a worker busy, and no more, so that latency is the
   * pipeline's own: a batch for each stage.
   */
  int inFlight() {
    return settings.get(PipelineSettings.BATCH) * Pipelines.workerConfig(settings).pipelineDepth();
  }
}
