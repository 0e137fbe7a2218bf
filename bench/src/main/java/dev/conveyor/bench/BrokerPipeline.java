package dev.conveyor.bench;

import dev.conveyor.assembly.LocalWorkers;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Replies;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The pipeline end to end through a broker: requests sent through the broker's reply client, a
 * worker taking them from its transport and storing results in its sink, and a reader handing the
 * results back; latency from making a request to reading its result. Shows what the broker costs
 * against the embedded transport on the same machine. The worker runs in this process, or in other
 * processes ({@code conveyor worker}) whose CPU time is then read from the system.
 */
final class BrokerPipeline {
  private static final String READER = "conveyor-bench-results";

  /** Load before measuring workers in other processes, which may have just started. */
  private static final Duration REMOTE_WARMUP = Duration.ofSeconds(8);

  private BrokerPipeline() {}

  static Measured measure(BenchPlan plan, Broker broker, List<Long> workerProcesses)
      throws Exception {
    Phase phase =
        new Phase(
            "pipeline",
            plan.seconds() + (workerProcesses.isEmpty() ? 1 : REMOTE_WARMUP.toSeconds()));
    Measured measured;
    if (!workerProcesses.isEmpty()) {
      try (Replies client = broker.client()) {
        PipelineLoad load =
            PipelineLoad.onProcesses(plan.inFlight(), workerProcesses, REMOTE_WARMUP);
        measured = measure(plan, phase, null, client, load);
      }
      phase.done();
      return measured;
    }
    try (LocalWorkers running =
        LocalWorkers.onBroker(plan.pipeline(), broker, plan.settings(), 1)) {
      // the threads the client starts (a connection's event loop, a producer's sender) are the
      // load's, as is the reader's: their CPU time is not the worker's
      Set<Long> before = CpuTime.threadIds();
      try (Replies client = broker.client()) {
        Set<Long> clientThreads = CpuTime.threadIds();
        clientThreads.removeAll(before);
        PipelineLoad load =
            PipelineLoad.inThisProcess(
                plan.inFlight(),
                () -> CpuTime.threads(clientThreads) + CpuTime.threadsNamed(READER));
        measured = measure(plan, phase, running, client, load);
      }
    }
    phase.done();
    return measured;
  }

  private static Measured measure(
      BenchPlan plan, Phase phase, LocalWorkers running, Replies client, PipelineLoad load)
      throws Exception {
    Map<String, Long> madeAt = new ConcurrentHashMap<>();
    AtomicBoolean reading = new AtomicBoolean(true);
    Thread reader = new Thread(() -> read(client, reading, madeAt, load), READER);
    reader.start();
    double ips;
    try {
      ips =
          load.run(
              plan.corpus(),
              plan.seconds(),
              phase,
              request -> {
                madeAt.put(request.id(), request.enqueuedNanos());
                client.send(request, Duration.ofMinutes(1));
              });
    } finally {
      reading.set(false);
      reader.join();
    }
    double meanBatch =
        running == null ? Double.NaN : running.workers().get(0).stats().meanBatchSize();
    return load.measured(plan.path(client.name()), ips, meanBatch);
  }

  /** Hands each result of a request this load made back to it, until told to stop. */
  private static void read(
      Replies client, AtomicBoolean reading, Map<String, Long> madeAt, PipelineLoad load) {
    while (reading.get()) {
      client.poll(
          r -> {
            Long made = madeAt.remove(r.id());
            if (made != null) {
              load.done(System.nanoTime() - made);
            }
          });
    }
  }
}
