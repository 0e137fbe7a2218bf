package dev.conveyor.cli;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.Json;
import dev.conveyor.kafka.KafkaAddress;
import dev.conveyor.kafka.KafkaResults;
import dev.conveyor.redis.Redis;
import dev.conveyor.redis.RedisAddress;
import dev.conveyor.redis.RedisResults;
import java.io.PrintWriter;
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
      "Prints the results in the results stream (list and stream modes), then exits; with --follow",
      "it goes on printing new ones until stopped (in Pub/Sub mode, the results published while",
      "it listens). With --id it prints the one stored result of a request.",
      ""
    })
final class ResultsCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--from",
      paramLabel = "URI",
      required = true,
      description = "redis://host:port[/db]?mode=list|pubsub|stream")
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
    if (KafkaAddress.handles(from)) {
      return kafka(Brokers.kafka(spec, from));
    }
    RedisAddress address = Brokers.redis(spec, from);
    PrintWriter out = spec.commandLine().getOut();
    try (RedisResults results = Redis.results(address)) {
      if (id != null) {
        ClassifyResult r = results.get(id);
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
      if (!follow && address.mode() == RedisAddress.Mode.PUBSUB) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(),
            "Pub/Sub keeps no results: use --follow to print them as they are published");
      }
      AtomicBoolean running = new AtomicBoolean(true);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> running.set(false)));
      if (follow) {
        results.follow(
            false,
            running::get,
            line -> {
              out.println(line);
              out.flush();
            });
      } else {
        results.stored(out::println);
      }
    }
    out.flush();
    return 0;
  }

  /** The results topic: all of it, or with --follow what comes from now on. */
  private int kafka(KafkaAddress address) {
    if (id != null) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "--id needs Redis: Kafka keeps results as a log, read it with or without --follow");
    }
    PrintWriter out = spec.commandLine().getOut();
    AtomicBoolean running = new AtomicBoolean(true);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> running.set(false)));
    try (KafkaResults results = new KafkaResults(address)) {
      if (follow) {
        results.follow(
            running::get,
            line -> {
              out.println(line);
              out.flush();
            });
      } else {
        results.stored(out::println);
      }
    }
    out.flush();
    return 0;
  }
}
