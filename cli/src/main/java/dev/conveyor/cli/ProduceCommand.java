package dev.conveyor.cli;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.redis.Redis;
import dev.conveyor.redis.RedisAddress;
import dev.conveyor.redis.RedisResults;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code conveyor produce}: sends image files to a broker for workers to classify. */
@Command(
    name = "produce",
    header = "Send image files to a broker for workers to classify.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Sends every file (directories are walked) to --to as a request, with a progress bar and",
      "the rate. When the queue is full it waits (back-pressure) rather than overflowing it;",
      "after --timeout seconds of waiting it stops with an error. With --wait it then waits for",
      "every result and prints them as JSON lines, in the order they come.",
      ""
    })
final class ProduceCommand implements Callable<Integer> {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--to",
      paramLabel = "URI",
      required = true,
      description = "redis://host:port[/db]?mode=list|pubsub|stream")
  String to;

  @Option(
      names = "--partitions",
      paramLabel = "N",
      description = "Kafka: partitions of the topics Conveyor creates when missing. Default: 4.")
  Integer partitions;

  @Option(
      names = "--wait",
      description = "Wait for every result and print it (list and stream modes).")
  boolean await;

  @Option(
      names = "--timeout",
      paramLabel = "S",
      defaultValue = "60",
      description =
          "Longest wait for room in the queue, or for one result. Default: ${DEFAULT-VALUE}.")
  int timeoutSeconds;

  @Parameters(
      paramLabel = "FILE|DIR",
      arity = "1..*",
      description = "Images, or directories to walk.")
  List<Path> inputs;

  @Override
  public Integer call() throws Exception {
    if (await && !RedisAddress.handles(to)) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(),
          "--wait needs Redis (list or stream mode); with Kafka, follow the results topic with 'conveyor results --follow'");
    }
    RedisAddress address = await ? Brokers.redis(spec, to) : null;
    if (await && address.mode() == RedisAddress.Mode.PUBSUB) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--wait needs list or stream mode: Pub/Sub results are not stored");
    }
    List<Path> files = Inputs.expand(inputs);
    String replyTo = await ? "conveyor:reply:" + UUID.randomUUID() : null;
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    long start = System.nanoTime();
    try (Brokers.Sender producer = Brokers.sender(spec, Brokers.withPartitions(to, partitions));
        ProgressBar bar = Progress.bar("produce", files.size(), " img", 1, true)) {
      for (Path file : files) {
        ImageRequest r = ImageRequest.ofBytes(file.toString(), Files.readAllBytes(file), null);
        producer.send(
            new ImageRequest(r.id(), r.source(), r.bytes(), null, replyTo, r.enqueuedNanos()),
            timeout);
        bar.step();
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    PrintWriter err = spec.commandLine().getErr();
    err.printf(
        "sent %d images to %s in %.1f s (%.0f images/s)%n",
        files.size(), to, seconds, files.size() / seconds);
    err.flush();
    if (await) {
      PrintWriter out = spec.commandLine().getOut();
      try (RedisResults results = Redis.results(address)) {
        for (int i = 0; i < files.size(); i++) {
          ClassifyResult r = results.awaitReply(replyTo, timeout);
          if (r == null) {
            err.printf(
                "conveyor: no result within %d s; %d of %d came%n",
                timeoutSeconds, i, files.size());
            return 1;
          }
          out.println(Json.write(r));
        }
      }
      out.flush();
    }
    return 0;
  }
}
