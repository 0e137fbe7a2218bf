package dev.conveyor.bench;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Brokers;
import java.util.List;

/**
 * Measures, in one run on the same machine and threads, how close each path through Conveyor comes
 * to the model's own limit: the raw model on tensors in memory, preprocessing, the pipeline end to
 * end (embedded or through a broker) and, when asked, the HTTP server. Progress goes to stderr; the
 * result is returned for the caller to print, chart or compare.
 */
public final class Bench {
  private Bench() {}

  /**
   * The model alone on a batch of the corpus's images, preprocessed and in memory, with the
   * pipeline's threads and batch size, after a warm-up: the limit every other stage is compared
   * with.
   */
  public static Rate raw(Pipeline engine, Corpus corpus, double seconds, String name) {
    Phase.say("warming up");
    RawModel.measure(engine, corpus, Math.min(2, seconds), null);
    return RawModel.measure(engine, corpus, seconds, new Phase(name, seconds));
  }

  /**
   * Runs the plan's measurements one after the other, each for the plan's seconds: the raw model
   * (after a warm-up), preprocessing on the preprocessing threads and on one, the pipeline, the
   * engine's job (a folder of the images, and the broker when there is one), and the HTTP server at
   * each number of callers.
   *
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} for a broker URI that no
   *     broker on the class path reads, or an engine that is not there, before anything is measured
   */
  public static BenchResult run(BenchPlan plan) throws Exception {
    return run(plan, List.of());
  }

  /**
   * Runs the plan with the pipeline stage's workers in other processes ({@code conveyor worker
   * --from} the plan's broker, started by the caller): their CPU time is read from the system.
   *
   * @param workerProcesses the workers' process ids; empty: workers in this process
   */
  public static BenchResult run(BenchPlan plan, List<Long> workerProcesses) throws Exception {
    if (!workerProcesses.isEmpty() && plan.broker().isEmpty()) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "workers in other processes take their requests from a broker: give its URI too");
    }
    Broker broker =
        plan.broker()
            .map(uri -> Brokers.open(uri, PipelineSettings.brokerOverrides(plan.settings())))
            .orElse(null);
    Engine streamEngine = plan.engine().map(EngineJob::find).orElse(null);
    Pipeline engine = plan.pipeline();
    Corpus corpus = plan.corpus();
    double seconds = plan.seconds();
    BenchResultBuilder result =
        new BenchResultBuilder(engine.model().name(), engine.batchSize(), corpus.size());
    result.threads(plan.modelThreads(), plan.preprocessThreads());

    Rate rawRate = raw(engine, corpus, seconds, "raw model");
    double raw = rawRate.ips();
    result.raw(rawRate);
    result.preprocess(
        Preprocess.measure(
            engine, corpus, plan.preprocessThreads(), seconds, new Phase("preprocess", seconds)));
    result.preprocessOneThread(
        Preprocess.measure(
                engine, corpus, 1, seconds / 2, new Phase("preprocess, 1 thread", seconds / 2))
            .ips());
    result.decodeOneThread(
        Preprocess.decodeOnly(
                engine, corpus, seconds / 2, new Phase("decode, 1 thread", seconds / 2))
            .ips());

    Measured pipeline =
        broker == null
            ? EmbeddedPipeline.measure(plan)
            : BrokerPipeline.measure(plan, broker, workerProcesses);
    result.pipeline(pipeline);
    if (streamEngine != null) {
      for (BenchResult.EngineLevel level :
          EngineJob.measure(streamEngine, plan, raw, pipeline.ips())) {
        result.engine(level);
      }
    }

    if (!plan.http().isEmpty()) {
      try (HttpLoad server = HttpLoad.start(plan)) {
        for (int callers : plan.http()) {
          result.http(callers, server.measure(callers));
        }
      }
    }
    return result.build();
  }
}
