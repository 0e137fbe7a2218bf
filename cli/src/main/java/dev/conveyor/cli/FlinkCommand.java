package dev.conveyor.cli;

import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.Engines;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.image.ImageFiles;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.pipeline.PipelineSettings;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code conveyor flink}: the Flink job on an embedded Flink cluster in this process. The Flink
 * module is found at run time ({@link Engines}); the {@code conveyor} launcher builds it on first
 * use and puts it on the class path.
 */
@Command(
    name = "flink",
    header = "Run the Flink job on an embedded Flink cluster: a folder, Kafka or a Redis stream.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Runs dev.conveyor.flink.ClassifyJob, the job that 'flink run' takes from",
      "conveyor-flink.jar, on a Flink MiniCluster in this process: each parallel task holds one",
      "model and classifies its share of the requests in batches. With --sink - it prints one",
      "JSON result per image; at the end of a bounded source (a folder, or --until-end) it",
      "prints the job's runtime and images/s. Stop an unbounded job with Ctrl-C.",
      "",
      "The first use builds the Flink module: about 170 MB of Flink's libraries from Maven.",
      ""
    })
final class FlinkCommand implements Callable<Integer>, SettingOptions.Taking {
  static final SettingGroup[] SETTINGS = {
    JobSettings.FLINK, PipelineSettings.MODEL_SETTINGS, PipelineSettings.BATCH_SETTINGS
  };

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public SettingGroup[] settings() {
    return SETTINGS;
  }

  @Override
  public Integer call() throws Exception {
    Settings settings = CommandSettings.read(spec, SETTINGS);
    CommandSettings.checkModel(spec, settings);
    String source = settings.get(JobSettings.SOURCE);
    if (source == null) {
      throw new ParameterException(
          spec.commandLine(), "give --source: a folder, kafka://… or redis://…?mode=stream");
    }
    Engine flink =
        Engines.find("flink")
            .orElseThrow(
                () ->
                    new ParameterException(
                        spec.commandLine(),
                        "the Flink module is not on the class path: run ./conveyor flink, which"
                            + " builds it on first use (or ./mvnw -Pflink -DskipTests package)"));
    Map<String, String> given = new LinkedHashMap<>(settings.given());
    if (settings.get(JobSettings.PARALLELISM) == 0) {
      given.put(JobSettings.PARALLELISM.name(), "2");
    }
    boolean toStdout = settings.get(JobSettings.SINK).equals("-");
    long files = folderSize(source);
    PrintWriter out = spec.commandLine().getOut();
    Engine.Report report;
    try (ProgressBar bar = Progress.bar("flink", files, " img", 1, true)) {
      report =
          CommandSettings.usage(
              spec,
              () ->
                  flink.runLocally(
                      given,
                      new Engine.Listener() {
                        @Override
                        public void result(String json) {
                          out.println(json);
                        }

                        @Override
                        public void progress(long results, long errors) {
                          bar.stepTo(results);
                          bar.setExtraMessage(errors > 0 ? " " + errors + " errors" : "");
                        }
                      }));
    }
    out.flush();
    PrintWriter err = spec.commandLine().getErr();
    err.printf(
        "classified %d images (%d errors) in %.1f s: %.1f images/s, %s parallel tasks%s%n",
        report.results(),
        report.errors(),
        report.seconds(),
        report.imagesPerSecond(),
        given.get(JobSettings.PARALLELISM.name()),
        toStdout ? "" : "; results in " + settings.get(JobSettings.SINK));
    err.flush();
    return 0;
  }

  /** How many files a folder source holds, for the progress bar; -1 for a broker source. */
  private long folderSize(String source) {
    Path folder = Path.of(source.startsWith("file://") ? source.substring(7) : source);
    if (source.contains("://") && !source.startsWith("file://") || !Files.isDirectory(folder)) {
      return -1;
    }
    return ImageFiles.expand(List.of(folder)).size();
  }
}
