package dev.conveyor.server;

import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.core.transport.EmbeddedTransport;
import dev.conveyor.core.worker.Worker;
import dev.conveyor.core.worker.WorkerSettings;
import java.time.Duration;
import java.util.List;

/** Servers for tests: started on a free port over one worker on the embedded transport. */
final class TestServers {
  private TestServers() {}

  /**
   * A started server over an embedded pipeline holding at most {@code capacity} waiting requests;
   * what it opened goes into {@code open}, to be closed last first.
   */
  static ConveyorServer embedded(
      ServerConfig config, MeanColourClassifier model, int capacity, List<AutoCloseable> open) {
    return embedded(config, model, capacity, null, open);
  }

  /** The same, its dashboard following {@code stored} when not null. */
  static ConveyorServer embedded(
      ServerConfig config,
      MeanColourClassifier model,
      int capacity,
      StoredResults stored,
      List<AutoCloseable> open) {
    return embedded(config, model, capacity, stored, 2, open);
  }

  /** The same, with {@code top} predictions per result. */
  static ConveyorServer embedded(
      ServerConfig config,
      MeanColourClassifier model,
      int capacity,
      StoredResults stored,
      int top,
      List<AutoCloseable> open) {
    EmbeddedTransport transport = new EmbeddedTransport(capacity, 3);
    open.add(transport);
    Worker worker =
        new Worker(
                WorkerSettings.config(Settings.none())
                    .withBatchSize(4)
                    .withLinger(Duration.ofMillis(20)),
                TestWorkers.pipeline(model, 4, TestWorkers.anyFile(), top),
                transport,
                transport)
            .start();
    open.add(worker);
    ConveyorServer server =
        new ConveyorServer(
                config.withPort(0),
                new EmbeddedClassify(
                    transport, List.of(worker), model.spec().name(), top, new int[] {3, 32, 32}),
                stored)
            .start();
    open.add(server);
    return server;
  }
}
