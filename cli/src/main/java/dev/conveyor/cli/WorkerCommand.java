package dev.conveyor.cli;

import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code conveyor worker}: classifies requests from a broker until stopped. */
@Command(
    name = "worker",
    header = "Classify requests from a broker until stopped.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Takes requests from --from in batches, classifies them and stores each result (see",
      "'conveyor results'). Runs until stopped; on SIGTERM or Ctrl-C it takes no more, finishes",
      "the batches it holds, stores their results, hands back anything not started, and exits.",
      ""
    })
final class WorkerCommand implements Callable<Integer> {

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--from",
      paramLabel = "URI",
      required = true,
      description =
          "redis://host:port[/db]?mode=list|pubsub|stream or kafka://host:port?topic=… (see the README).")
  String from;

  @Option(
      names = "--partitions",
      paramLabel = "N",
      description = "Kafka: partitions of the topics Conveyor creates when missing. Default: 4.")
  Integer partitions;

  @Option(
      names = "--workers",
      paramLabel = "N",
      defaultValue = "1",
      description = "Workers in this process, sharing the model. Default: ${DEFAULT-VALUE}.")
  int workers;

  @Mixin ModelOptions model;

  @Mixin BatchOptions batch;

  @Override
  public Integer call() throws Exception {
    Brokers.Endpoint address = Brokers.endpoint(spec, Brokers.withPartitions(from, partitions));
    CountDownLatch stopped = new CountDownLatch(1);
    try (Engine engine = Engine.load(model, spec.commandLine())) {
      Engine.Running running = engine.startWorkers(address, workers, batch, model);
      spec.commandLine()
          .getErr()
          .printf(
              "conveyor worker: %d worker(s) on %s, model %s%n",
              workers, address.describe(), engine.classifier.spec().name());
      spec.commandLine().getErr().flush();
      Thread shutdown =
          new Thread(
              () -> {
                running.close();
                stopped.countDown();
              },
              "conveyor-shutdown");
      Runtime.getRuntime().addShutdownHook(shutdown);
      stopped.await();
    }
    return 0;
  }
}
