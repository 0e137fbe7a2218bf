package dev.conveyor.cli;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.bench.Bench;
import dev.conveyor.bench.BenchChart;
import dev.conveyor.bench.BenchPlan;
import dev.conveyor.bench.BenchResult;
import dev.conveyor.bench.Corpus;
import dev.conveyor.bench.Soak;
import dev.conveyor.core.Json;
import dev.conveyor.core.fetch.ObjectStore;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code conveyor bench}: measures, in one run, the model's raw throughput on tensors already in
 * memory (the limit), decode+preprocess throughput, and the end-to-end pipeline with its latency,
 * and reports the pipeline as a fraction of the limit. The measuring is the bench module's ({@link
 * Bench}); this command reads the options, opens the pipeline and prints.
 */
@Command(
    name = "bench",
    header = "Measure throughput and latency against the raw model limit.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Measures, in one run, how close the pipeline comes to the model's limit:",
      "  raw         the model alone on tensors in memory (same threads and batch)",
      "  preprocess  decode, resize, normalize: all preprocessing threads, then one",
      "  pipeline    end to end through the embedded transport: bytes in, results out",
      "  engine      with --engine flink or spark, the same pipeline as a job",
      "With --every-path, every path in one table from one run (embedded, HTTP, each --broker, "
          + "each of --engines' jobs), each against the raw model and with its CPU time per image.",
      "Seed 004's path: --store s3://bucket/prefix puts the images there first and sends "
          + "only their keys (workers fetch each one), --transport kafka://… carries them, and "
          + "--results-to postgresql://… stores every result in a table as well. Prints a markdown "
          + "table and writes a PNG chart; --json adds one JSON line.",
      "",
    })
final class BenchCommand implements Callable<Integer>, SettingOptions.Taking {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public SettingGroup[] settings() {
    return new SettingGroup[] {
      PipelineSettings.MODEL_SETTINGS,
      PipelineSettings.FETCH_SETTINGS,
      PipelineSettings.BATCH_SETTINGS,
      PipelineSettings.RESULT_SETTINGS,
      PipelineSettings.TRANSPORT_SETTINGS
    };
  }

  @Override
  public Map<String, List<String>> aliases() {
    return Map.of("results-to", List.of("sink"));
  }

  @Option(
      names = "--images",
      paramLabel = "DIR",
      description = "Images to use (read into memory first). Default: 64 generated 640x480 JPEGs.")
  Path images;

  @Option(
      names = "--seconds",
      paramLabel = "S",
      defaultValue = "10",
      description = "Seconds per measurement. Default: ${DEFAULT-VALUE}.")
  double seconds;

  @Option(
      names = "--chart",
      paramLabel = "PNG",
      description = "Where to write the chart. Default: conveyor-bench-MODEL.png.")
  Path chart;

  @Option(
      names = "--store",
      paramLabel = "URI",
      description =
          "Put the images in this object store first (s3://bucket/prefix, the bucket made when"
              + " missing), and have the pipeline stage send their keys instead of their bytes:"
              + " workers fetch every image, as seed 004's do.")
  String store;

  @Option(
      names = "--tensors",
      description =
          "Have the pipeline stage send each image as a float32 tensor of the model's input,"
              + " preprocessed once beforehand: what clients that preprocess themselves send"
              + " (nothing is left to decode, so it shows what the transport itself costs).")
  boolean tensors;

  @Option(
      names = "--http",
      paramLabel = "C",
      split = ",",
      description =
          "Also load the HTTP server (POST /v1/classify, embedded workers) with C callers at once,"
              + " each waiting for its answer, for each C given: e.g. --http 1,8,32.")
  List<Integer> http = List.of();

  @Option(
      names = "--engine",
      paramLabel = "NAME",
      description =
          "Also run the pipeline as a job on a stream engine (flink), on an embedded cluster: as"
              + " many images as the pipeline stage classified, from a folder to files, and from"
              + " the --transport broker back to it when it is Kafka or a Redis stream.")
  String engine;

  @Option(
      names = "--engine-parallelism",
      paramLabel = "N",
      defaultValue = "1",
      description =
          "Parallel tasks of the engine's job, each with its own model. Default: ${DEFAULT-VALUE}.")
  int engineParallelism;

  @Option(names = "--json", description = "Also print the results as one JSON line.")
  boolean json;

  @Mixin EveryPathOptions everyPath;

  @Option(
      names = "--soak",
      paramLabel = "DURATION",
      arity = "0..1",
      fallbackValue = "10m",
      description =
          "Instead of the measurements: overload held for DURATION (10m when none is given; 90s,"
              + " 1h): the capacity is measured (--seconds), then requests are offered at"
              + " --overload times it against the HTTP server, or through --transport to a worker."
              + " Reports the share refused, p50/p99 of what was accepted, what was lost and this"
              + " process's memory over the run.")
  String soak;

  @Option(
      names = "--overload",
      paramLabel = "X",
      defaultValue = "2",
      description =
          "With --soak: the offered rate as a multiple of capacity. Default: ${DEFAULT-VALUE}.")
  double overload;

  @Option(
      names = "--rate",
      paramLabel = "N",
      defaultValue = "0",
      description = "With --soak: offer N requests per second instead of measuring the capacity.")
  double rate;

  @Option(
      names = "--url",
      paramLabel = "URL",
      description =
          "With --soak: post to the serve running at URL (http://host:8080) instead of one in this"
              + " process, with --rate; its memory is read from its /metrics, and CONVEYOR_TOKEN is"
              + " sent when set.")
  java.net.URI url;

  @Option(
      names = "--remote-workers",
      description =
          "With --transport: the workers run elsewhere (conveyor worker --transport the same URI, same"
              + " model and batch), not in this process; --watch their process ids, whose CPU time"
              + " per image is then the pipeline's. With --soak, give --rate too.")
  boolean remoteWorkers;

  @Option(
      names = {"--watch-pids", "--watch"},
      paramLabel = "PID",
      split = ",",
      description =
          "Processes to watch: with --remote-workers, the workers' CPU time; with --soak, their"
              + " resident memory too.")
  List<Long> watch = new ArrayList<>();

  @Option(
      names = "--connections",
      paramLabel = "N",
      defaultValue = "2048",
      description =
          "With --soak over HTTP: the most requests outstanding at once, as many callers as that;"
              + " more than the server queues, so that it must refuse. Default: ${DEFAULT-VALUE}.")
  int connections;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    Settings settings = CommandSettings.read(spec, settings());
    try (Pipeline pipeline = CommandSettings.open(spec, settings)) {
      Corpus read = images != null ? Corpus.read(images) : Corpus.generated();
      if (store != null && tensors) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--store sends keys and --tensors sends tensors: choose one");
      }
      Corpus corpus =
          store != null ? stored(read, settings) : tensors ? read.withTensors(pipeline) : read;
      BenchPlan plan =
          new BenchPlan(
              pipeline,
              settings,
              corpus,
              seconds,
              transport(settings),
              http,
              Optional.ofNullable(engine),
              engineParallelism);
      if (everyPath.engineImages > 0) {
        return CommandSettings.usage(spec, () -> everyPath.engineOnly(engine, plan, out));
      }
      if (everyPath.enabled) {
        CommandSettings.usage(
            spec, () -> everyPath.run(plan, http, images, settings(), chart, json, out));
        return 0;
      }
      if (soak != null) {
        Soak.Report report =
            CommandSettings.usage(
                spec,
                () ->
                    Soak.run(
                        new Soak.Plan(
                            plan,
                            Soak.duration(soak),
                            overload,
                            rate,
                            Optional.ofNullable(url),
                            remoteWorkers,
                            watch,
                            connections)));
        out.println(report.markdown());
        if (json) {
          out.println(Json.write(report));
        }
        out.flush();
        return report.lost() == 0 ? 0 : 1;
      }
      if (remoteWorkers && watch.isEmpty()) {
        throw new picocli.CommandLine.ParameterException(
            spec.commandLine(), "--remote-workers needs --watch PID of each worker process");
      }
      BenchResult r =
          CommandSettings.usage(spec, () -> Bench.run(plan, remoteWorkers ? watch : List.of()));
      out.println(r.markdown());
      Path png = chart != null ? chart : Path.of("conveyor-bench-" + r.model() + ".png");
      BenchChart.write(r, png);
      out.println("chart: " + png);
      if (json) {
        out.println(Json.write(r.json()));
      }
    }
    out.flush();
    return 0;
  }

  /** The corpus put under {@code --store} (the bucket made when missing), to be sent by key. */
  private Corpus stored(Corpus corpus, Settings settings) {
    List<String> keys = new ArrayList<>();
    try (ObjectStore at = UploadCommand.open(spec, "--store", store, settings);
        ProgressBar bar = Progress.bar("store", corpus.size(), " img", 1, true)) {
      CommandSettings.usage(
          spec,
          () -> {
            at.checkBucket(true);
            return null;
          });
      for (int i = 0; i < corpus.size(); i++) {
        keys.add(at.put("bench-%05d".formatted(i), corpus.image(i), "application/octet-stream"));
        bar.step();
      }
    }
    return corpus.withKeys(keys);
  }

  /** The broker URI the bench runs through, if not the embedded transport. */
  private static Optional<String> transport(Settings settings) {
    String uri = settings.get(PipelineSettings.TRANSPORT);
    return uri.equalsIgnoreCase("embedded") ? Optional.empty() : Optional.of(uri);
  }
}
