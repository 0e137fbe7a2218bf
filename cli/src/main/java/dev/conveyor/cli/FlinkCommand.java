package dev.conveyor.cli;

import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.flink.ClassifyJob;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code conveyor flink}: the Flink job on an embedded cluster in this process. */
@Command(
    name = "flink",
    header = "Run the Flink job on an embedded Flink cluster: a folder of images, classified.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Runs dev.conveyor.flink.ClassifyJob, the job that 'flink run' takes from",
      "conveyor-flink.jar, on a Flink MiniCluster in this process: each parallel task holds one",
      "model and classifies its share of the images in batches. Prints one JSON result per",
      "image (in the order they come back), then the job's runtime and images/s.",
      ""
    })
final class FlinkCommand implements Callable<Integer>, SettingOptions.Taking {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--source",
      paramLabel = "DIR",
      required = true,
      description = "The folder of images to classify (walked, hidden files skipped).")
  Path source;

  @Option(
      names = "--sink",
      paramLabel = "-",
      defaultValue = "-",
      description = "Where results go: - for stdout, as JSON lines. Default: ${DEFAULT-VALUE}.")
  String sink;

  @Option(
      names = {"-p", "--parallelism"},
      paramLabel = "N",
      defaultValue = "2",
      description = "Parallel tasks, each with its own model. Default: ${DEFAULT-VALUE}.")
  int parallelism;

  @Override
  public SettingGroup[] settings() {
    return CommandSettings.PIPELINE;
  }

  @Override
  public Integer call() throws Exception {
    if (!sink.equals("-")) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "--sink - (stdout) is the only sink so far");
    }
    Settings settings = CommandSettings.pipeline(spec);
    CommandSettings.checkModel(spec, settings);
    List<String> images = CommandSettings.usage(spec, () -> ClassifyJob.images(source));
    PrintWriter out = spec.commandLine().getOut();
    int files = images.size();
    ClassifyJob.Report report;
    try (ProgressBar bar = files > 20 ? Progress.bar("flink", files, " img", 1, true) : null) {
      report =
          CommandSettings.usage(
              spec,
              () ->
                  ClassifyJob.runLocally(
                      source,
                      images,
                      settings.given(),
                      parallelism,
                      json -> {
                        out.println(json);
                        if (bar != null) {
                          bar.step();
                        }
                      }));
    }
    out.flush();
    PrintWriter err = spec.commandLine().getErr();
    err.printf(
        "classified %d images (%d errors) in %.1f s: %.1f images/s, %d parallel tasks%n",
        report.results(), report.errors(), report.seconds(), report.imagesPerSecond(), parallelism);
    err.flush();
    return 0;
  }
}
