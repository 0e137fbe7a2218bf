package dev.conveyor.cli;

import dev.conveyor.assembly.LocalWorkers;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.testing.TestProcesses;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;

/**
 * A worker process like {@code conveyor worker}, on the same transports, sinks and worker loop,
 * whose model sleeps for a fixed time per batch instead of computing: a model of known cost that
 * uses no CPU, so that what limits many of them is the broker and their coordination, not this
 * machine's cores. Started by tests and benchmarks on hosts of their own ({@link #command}).
 *
 * <p>Arguments: the transport's URI, the model's milliseconds per batch, the batch size.
 */
public final class SleepingWorker {
  /** The options of the test hosts' Java processes: a small heap, Conveyor's folder. */
  static final List<String> JVM =
      List.of("-Xmx256m", "-Dconveyor.home=" + Path.of("..").toAbsolutePath().normalize());

  private SleepingWorker() {}

  public static void main(String[] args) throws Exception {
    String uri = args[0];
    long millis = Long.parseLong(args[1]);
    int batch = Integer.parseInt(args[2]);
    Settings settings =
        Settings.read(
            Map.of("batch", Integer.toString(batch)), "sleeping worker", CommandSettings.WORKING);
    Broker broker = Brokers.open(uri);
    Pipeline pipeline = TestWorkers.pipeline(new MeanColourClassifier(32, 32).slow(millis), batch);
    LocalWorkers running = LocalWorkers.onBroker(pipeline, broker, settings, 1);
    System.err.printf(
        "sleeping worker: on %s, %d ms per batch of %d%n", broker.describe(), millis, batch);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  running.close();
                  pipeline.close();
                  stopped.countDown();
                }));
    stopped.await();
  }

  /** The command that starts one, with this JVM's Java and class path. */
  public static List<String> command(String uri, long millis, int batch) {
    return TestProcesses.javaCommand(
        JVM,
        SleepingWorker.class.getName(),
        List.of(uri, Long.toString(millis), Integer.toString(batch)));
  }
}
