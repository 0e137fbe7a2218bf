package dev.conveyor.bench;

import dev.conveyor.assembly.LocalWorkers;
import java.time.Duration;

/**
 * The pipeline end to end through the embedded transport, as a single process serves it: encoded
 * bytes in, results out, with the latency from submitting a request to its result.
 */
final class EmbeddedPipeline {
  private EmbeddedPipeline() {}

  static Measured measure(BenchPlan plan) throws Exception {
    Phase phase = new Phase("pipeline", plan.seconds() + 1);
    PipelineLoad load = PipelineLoad.inThisProcess(plan.inFlight(), () -> 0);
    Measured measured;
    try (LocalWorkers running = LocalWorkers.embedded(plan.pipeline(), plan.settings(), 1)) {
      double ips =
          load.run(
              plan.corpus(),
              plan.seconds(),
              phase,
              request ->
                  running
                      .embedded()
                      .submit(request, Duration.ofMinutes(1))
                      .whenComplete(
                          (r, t) -> {
                            if (r != null) {
                              load.done(System.nanoTime() - request.enqueuedNanos());
                            } else {
                              load.failed();
                            }
                          }));
      measured =
          load.measured(
              plan.path("embedded"), ips, running.workers().get(0).stats().meanBatchSize());
    }
    phase.done();
    return measured;
  }
}
