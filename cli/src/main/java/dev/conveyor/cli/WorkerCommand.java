package dev.conveyor.cli;

import dev.conveyor.assembly.LocalWorkers;
import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.worker.Worker;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code conveyor worker}: classifies requests from a broker until stopped. */
@Command(
    name = "worker",
    header = "Classify requests from a broker until stopped.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Takes requests from --transport in batches, classifies them and stores each result (see "
          + "'conveyor results'). Runs until stopped; on SIGTERM or Ctrl-C it takes no more, "
          + "finishes the batches it holds, stores their results, hands back anything not "
          + "started, and exits.",
      "",
    })
final class WorkerCommand implements Callable<Integer>, SettingOptions.Taking {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public SettingGroup[] settings() {
    return CommandSettings.WORKING;
  }

  @Override
  public Map<String, List<String>> aliases() {
    return Map.of("transport", List.of("from"), "results-to", List.of("sink"));
  }

  /** The exit status when a worker's thread died: {@code EX_SOFTWARE}. */
  static final int EXIT_WORKER_DIED = 70;

  @Override
  public Integer call() throws Exception {
    Settings settings = CommandSettings.read(spec, CommandSettings.WORKING);
    Broker broker = CommandSettings.broker(spec, settings);
    Integer given = settings.get(PipelineSettings.WORKERS);
    int workers = given != null ? given : 1;
    if (workers < 1) {
      throw new ParameterException(spec.commandLine(), "--workers must be at least 1");
    }
    CountDownLatch stopped = new CountDownLatch(1);
    try (ServedModels models = CommandSettings.usage(spec, () -> ServedModels.open(settings))) {
      LocalWorkers running = LocalWorkers.onBroker(models, broker, settings, workers);
      spec.commandLine()
          .getErr()
          .printf(
              "conveyor worker: %d worker(s) on %s, %s%n",
              workers, broker.describe(), models.describe());
      spec.commandLine().getErr().flush();
      AtomicBoolean stopping = new AtomicBoolean();
      Thread shutdown =
          new Thread(
              () -> {
                stopping.set(true);
                running.close();
                stopped.countDown();
              },
              "conveyor-shutdown");
      Runtime.getRuntime().addShutdownHook(shutdown);
      while (!stopped.await(1, TimeUnit.SECONDS)) {
        if (!stopping.get() && !running.workers().stream().allMatch(Worker::alive)) {
          // a worker whose threads died takes nothing more: exit, so that a supervisor starts anew
          spec.commandLine()
              .getErr()
              .println(
                  "conveyor worker: a worker's thread died (the log above says why); exiting so"
                      + " that a supervisor can start a new one");
          spec.commandLine().getErr().flush();
          return EXIT_WORKER_DIED;
        }
      }
    }
    return 0;
  }
}
