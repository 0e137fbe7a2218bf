package dev.conveyor.cli;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.KeyTable;
import dev.conveyor.core.transport.Replies;
import dev.conveyor.core.transport.Requests;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
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
      "Sends every file (directories are walked) to --transport as a request, with a progress bar "
          + "and the rate. When the queue is full it waits (back-pressure) rather than "
          + "overflowing it; after --max-wait seconds of waiting it stops with an error. With "
          + "--wait it then waits for every result and prints them as JSON lines, in the order "
          + "they come. With --from-table it sends the keys of a table instead (seed 004's "
          + "producer), for workers to fetch each image.",
      "",
    })
final class ProduceCommand implements Callable<Integer>, SettingOptions.Taking {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public SettingGroup[] settings() {
    return new SettingGroup[] {PipelineSettings.TRANSPORT_SETTINGS};
  }

  @Override
  public Map<String, List<String>> aliases() {
    return Map.of("transport", List.of("to"));
  }

  @Option(
      names = "--wait",
      description = "Wait for every result and print it, in the order they come.")
  boolean await;

  @Option(
      names = {"--max-wait", "--timeout"},
      paramLabel = "S",
      defaultValue = "60",
      description =
          "Longest wait for room in the queue, or for one result. Default: ${DEFAULT-VALUE}.")
  int timeoutSeconds;

  @Option(
      names = "--from-table",
      paramLabel = "URI",
      description =
          "Send the keys of a table instead of files, as seed 004's producer does: postgresql://user@host:5432/db?table=image_info&column=image_key&key-prefix=s3://bucket/. Each key is a request whose id is the key, referring to the image by key-prefix + key for workers to fetch.")
  String fromTable;

  @Option(
      names = "--only-new",
      description = "With --from-table: only keys that have no row in the results table yet.")
  boolean onlyNew;

  @Parameters(
      paramLabel = "FILE|DIR",
      arity = "0..*",
      description = "Images, or directories to walk.")
  List<Path> inputs = List.of();

  @Override
  public Integer call() throws Exception {
    Broker broker = CommandSettings.broker(spec, CommandSettings.read(spec, settings()));
    if ((fromTable == null) == inputs.isEmpty()) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "give image files or directories, or --from-table URI (one of them)");
    }
    if (fromTable != null) {
      return keys(broker, table(spec, "--from-table", fromTable));
    }
    List<Path> files = ImageFiles.expand(inputs);
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    PrintWriter err = spec.commandLine().getErr();
    long start = System.nanoTime();
    List<Requests.Failure> failed = new ArrayList<>();
    try (Sender sender =
        await
            ? new Replying(broker.client(), ConcurrentHashMap.newKeySet())
            : new Plain(broker.producer())) {
      // the bar is closed (its line ended) before the summary is written
      try (ProgressBar bar = Progress.bar("produce", files.size(), " img", 1, true)) {
        for (int i = 0; i < files.size(); i++) {
          Path file = files.get(i);
          ImageRequest r = ImageRequest.ofBytes(file.toString(), Files.readAllBytes(file), null);
          try {
            sender.send(r, timeout);
          } catch (ConveyorException e) {
            // the broker stayed full or away for the whole wait: the rest would fare the same
            failed.add(new Requests.Failure(r, e));
            for (Path rest : files.subList(i + 1, files.size())) {
              failed.add(new Requests.Failure(ImageRequest.ofKey(rest.toString()), e));
            }
            break;
          }
          bar.step();
        }
        failed.addAll(sender.flush(timeout));
      }
      int sent = files.size() - failed.size();
      double seconds = (System.nanoTime() - start) / 1e9;
      err.printf(
          "sent %d images to %s in %.1f s (%.0f images/s)%n",
          sent, broker.describe(), seconds, sent / seconds);
      if (!failed.isEmpty()) {
        err.printf("conveyor: could not send %d of %d images:%n", failed.size(), files.size());
        for (Requests.Failure f : failed) {
          err.printf("  %s: %s%n", f.request().source(), f.error().getMessage());
        }
        err.flush();
        return 1;
      }
      if (await && !awaitAll(sender, sent, timeout)) {
        return 1;
      }
    }
    err.flush();
    return 0;
  }

  /** Sends a request for each key of the table; the keys' images stay where they are. */
  private int keys(Broker broker, KeyTable table) throws InterruptedException {
    Duration timeout = Duration.ofSeconds(timeoutSeconds);
    PrintWriter err = spec.commandLine().getErr();
    long start = System.nanoTime();
    long[] sent = {0};
    List<Requests.Failure> failed = new ArrayList<>();
    try (Sender sender =
        await
            ? new Replying(broker.client(), ConcurrentHashMap.newKeySet())
            : new Plain(broker.producer())) {
      try (ProgressBar bar = Progress.bar("produce", table.count(onlyNew), " key", 1, true)) {
        table.forEach(
            onlyNew,
            r -> {
              try {
                sender.send(r, timeout);
                sent[0]++;
              } catch (ConveyorException e) {
                failed.add(new Requests.Failure(r, e));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ConveyorException(dev.conveyor.core.ErrorCode.UNAVAILABLE, "interrupted");
              }
              bar.step();
            });
        List<Requests.Failure> late = sender.flush(timeout);
        failed.addAll(late);
        sent[0] -= late.size();
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      err.printf(
          "sent %d keys from %s to %s in %.1f s (%.0f keys/s)%n",
          sent[0], table.describe(), broker.describe(), seconds, sent[0] / seconds);
      if (!failed.isEmpty()) {
        err.printf("conveyor: could not send %d keys:%n", failed.size());
        for (Requests.Failure f : failed.subList(0, Math.min(20, failed.size()))) {
          err.printf("  %s: %s%n", f.request().id(), f.error().getMessage());
        }
        err.flush();
        return 1;
      }
      if (await && !awaitAll(sender, (int) sent[0], timeout)) {
        return 1;
      }
    }
    err.flush();
    return 0;
  }

  /** The table of keys an option names: a broker's that keeps tables. */
  static KeyTable table(CommandSpec spec, String option, String uri) {
    Broker broker = CommandSettings.broker(spec, uri, Map.of());
    return broker
        .keys()
        .orElseThrow(
            () ->
                new picocli.CommandLine.ParameterException(
                    spec.commandLine(),
                    option
                        + ": "
                        + broker.describe()
                        + " keeps no table of keys; give"
                        + " postgresql://user@host:5432/db?table=image_info&column=image_key"));
  }

  /** Prints results as they come until {@code n} came; false when one took over {@code timeout}. */
  private boolean awaitAll(Sender sender, int n, Duration timeout) {
    PrintWriter out = spec.commandLine().getOut();
    int printed = 0;
    long deadline = System.nanoTime() + timeout.toNanos();
    while (printed < n) {
      List<ClassifyResult> came = sender.poll();
      for (ClassifyResult r : came) {
        out.println(Json.write(r));
        printed++;
      }
      out.flush();
      if (!came.isEmpty()) {
        deadline = System.nanoTime() + timeout.toNanos();
      } else if (System.nanoTime() > deadline) {
        spec.commandLine()
            .getErr()
            .printf("conveyor: no result within %d s; %d of %d came%n", timeoutSeconds, printed, n);
        return false;
      }
    }
    return true;
  }

  /** Sends requests: plainly, or as a client that then waits for their results. */
  private interface Sender extends AutoCloseable {
    void send(ImageRequest request, Duration maxWait) throws InterruptedException;

    List<Requests.Failure> flush(Duration maxWait) throws InterruptedException;

    /** Results that came (waiting a little for some). */
    List<ClassifyResult> poll();

    @Override
    void close();
  }

  private record Plain(Requests producer) implements Sender {
    public void send(ImageRequest request, Duration maxWait) throws InterruptedException {
      producer.send(request, maxWait);
    }

    public List<Requests.Failure> flush(Duration maxWait) throws InterruptedException {
      return producer.flush(maxWait);
    }

    public List<ClassifyResult> poll() {
      return List.of();
    }

    public void close() {
      producer.close();
    }
  }

  /** Sends through a reply client, keeping the results of this run's requests only. */
  private record Replying(Replies client, Set<String> mine) implements Sender {
    public void send(ImageRequest request, Duration maxWait) throws InterruptedException {
      mine.add(request.id());
      client.send(request, maxWait);
    }

    public List<Requests.Failure> flush(Duration maxWait) {
      return List.of();
    }

    public List<ClassifyResult> poll() {
      List<ClassifyResult> came = new ArrayList<>();
      client.poll(
          r -> {
            if (mine.remove(r.id())) {
              came.add(r);
            }
          });
      return came;
    }

    public void close() {
      client.close();
    }
  }
}
