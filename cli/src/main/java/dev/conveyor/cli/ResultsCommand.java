package dev.conveyor.cli;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.Json;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Results;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code conveyor results}: prints results stored by workers. */
@Command(
    name = "results",
    header = "Print results stored by workers, as JSON lines.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Prints the results the broker keeps (a Redis results stream, a Kafka results topic), "
          + "then exits; with --follow it goes on printing new ones until stopped (in Redis "
          + "Pub/Sub mode, those published while it listens). With --id it prints the stored "
          + "result of one request (Redis).",
      "",
    })
final class ResultsCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--from",
      paramLabel = "URI",
      required = true,
      description =
          "The broker: redis://host:port[/db]?mode=list|pubsub|stream or kafka://host:port?topic=….")
  String from;

  @Option(names = "--follow", description = "Keep printing new results until stopped.")
  boolean follow;

  @Option(
      names = "--id",
      paramLabel = "ID",
      description = "Print the stored result of one request.")
  String id;

  @Override
  public Integer call() throws Exception {
    Broker broker = CommandSettings.broker(spec, from, Map.of());
    PrintWriter out = spec.commandLine().getOut();
    try (Results results = broker.results()) {
      if (id != null) {
        ClassifyResult r = CommandSettings.usage(spec, () -> results.get(id));
        if (r == null) {
          spec.commandLine()
              .getErr()
              .println("conveyor: no stored result for " + id + " (not done yet, or expired)");
          return 1;
        }
        out.println(Json.write(r));
        out.flush();
        return 0;
      }
      if (follow) {
        AtomicBoolean running = new AtomicBoolean(true);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> running.set(false)));
        results.follow(
            running::get,
            line -> {
              out.println(line);
              out.flush();
            });
      } else {
        CommandSettings.usage(
            spec,
            () -> {
              results.stored(out::println);
              return null;
            });
      }
    }
    out.flush();
    return 0;
  }
}
