package dev.conveyor.bench;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Brokers;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Every path through Conveyor in one run ({@code conveyor bench --every-path}), each against the
 * raw model measured at the start of the same run, with the CPU time per image of what carried it:
 * the embedded pipeline, the HTTP server, each broker given (its workers in this process, their CPU
 * time this process's less the load's threads), and each engine's job (in a process of its own,
 * which has the engine's libraries, on as many images as the embedded pipeline classified in the
 * run's seconds). The raw model is measured again at the end, so that a machine whose speed moved
 * during the run shows it.
 */
public final class EveryPath {
  private EveryPath() {}

  /** Runs an engine's job where the engine's libraries are, and returns what it measured. */
  @FunctionalInterface
  public interface EngineJobs {
    /**
     * @param images how many images the job classifies (the plan's, cycling through them)
     * @param broker a Kafka URI to run the job from and back to as well, after a folder; or empty
     */
    List<EngineRun> run(String engine, int images, Optional<String> broker) throws Exception;
  }

  /**
   * What to measure besides the raw model, preprocessing and the embedded pipeline.
   *
   * @param bench the pipeline, its settings, the images and the seconds of each measurement (its
   *     broker, HTTP and engine stages are not used)
   * @param brokers broker URIs, each measured in turn (workers in this process)
   * @param httpCallers callers loading the HTTP server at once; 0: no HTTP row
   * @param engines the engines whose jobs run, through {@code jobs}
   */
  public record Plan(
      BenchPlan bench,
      List<String> brokers,
      int httpCallers,
      List<String> engines,
      EngineJobs jobs) {
    /**
     * @throws ConveyorException {@code INVALID_SETTING} for a negative number of callers
     */
    public Plan {
      Objects.requireNonNull(bench, "bench");
      Objects.requireNonNull(jobs, "jobs");
      brokers = List.copyOf(brokers);
      engines = List.copyOf(engines);
      if (httpCallers < 0) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING, "HTTP callers must be 0 or more, not " + httpCallers);
      }
    }
  }

  /**
   * Measures every path of the plan, one after the other.
   *
   * @throws ConveyorException {@code INVALID_SETTING} for a broker URI that no broker on the class
   *     path reads, before anything is measured
   */
  public static EveryPathReport run(Plan plan) throws Exception {
    BenchPlan bench = plan.bench();
    Map<String, Broker> brokers = new LinkedHashMap<>();
    for (String uri : plan.brokers()) {
      brokers.put(uri, Brokers.open(uri, PipelineSettings.brokerOverrides(bench.settings())));
    }
    Pipeline pipeline = bench.pipeline();
    Corpus corpus = bench.corpus();
    double seconds = bench.seconds();
    Rate raw = Bench.raw(pipeline, corpus, seconds, "raw model");
    Rate preprocess =
        Preprocess.measure(
            pipeline, corpus, bench.preprocessThreads(), seconds, new Phase("preprocess", seconds));
    double modelAndPreprocess = raw.cpuMsPerImage() + preprocess.cpuMsPerImage();

    List<EveryPathReport.Row> rows = new ArrayList<>();
    Measured embedded = EmbeddedPipeline.measure(bench);
    rows.add(EveryPathReport.Row.of(embedded.name(), embedded, raw.ips(), modelAndPreprocess));
    if (plan.httpCallers() > 0) {
      try (HttpLoad server = HttpLoad.start(bench)) {
        Measured http = server.measure(plan.httpCallers());
        rows.add(
            EveryPathReport.Row.of(
                "HTTP, %d callers".formatted(plan.httpCallers()),
                http,
                raw.ips(),
                modelAndPreprocess));
      }
    }
    for (Map.Entry<String, Broker> broker : brokers.entrySet()) {
      Measured m =
          BrokerPipeline.measure(bench.withBroker(broker.getKey()), broker.getValue(), List.of());
      rows.add(EveryPathReport.Row.of(m.name(), m, raw.ips(), modelAndPreprocess));
    }
    int images = EngineJob.images(bench, embedded.ips());
    Optional<String> kafka =
        plan.brokers().stream().filter(u -> u.startsWith("kafka://")).findFirst();
    for (String engine : plan.engines()) {
      for (EngineRun run : plan.jobs().run(engine, images, kafka)) {
        rows.add(EveryPathReport.Row.of(run, raw.ips(), modelAndPreprocess));
      }
    }
    Rate rawAtEnd =
        RawModel.measure(pipeline, corpus, seconds, new Phase("raw model, again", seconds));
    return new EveryPathReport(
        pipeline.model().name(),
        pipeline.batchSize(),
        corpus.size(),
        Runtime.getRuntime().availableProcessors(),
        raw,
        rawAtEnd,
        preprocess,
        rows);
  }
}
