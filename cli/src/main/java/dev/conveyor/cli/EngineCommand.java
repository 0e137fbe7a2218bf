package dev.conveyor.cli;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.Engines;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * What {@code conveyor flink} and {@code conveyor spark} share: the job or query on an embedded
 * cluster in this process, with a progress bar and a summary. The engine's module is found at run
 * time ({@link Engines}); the {@code conveyor} launcher builds it on first use and puts it on the
 * class path.
 */
abstract class EngineCommand implements Callable<Integer>, SettingOptions.Taking {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  /** The engine's name, as found by {@link Engines} and as the command is called. */
  abstract String engine();

  /** The engine's own settings, before the pipeline's. */
  abstract SettingGroup jobSettings();

  /** What the summary calls the engine's parallel work. */
  abstract String parallelism(Map<String, String> given);

  @Override
  public SettingGroup[] settings() {
    return new SettingGroup[] {
      jobSettings(),
      PipelineSettings.MODEL_SETTINGS,
      PipelineSettings.FETCH_SETTINGS,
      PipelineSettings.BATCH_SETTINGS
    };
  }

  @Override
  public Integer call() throws Exception {
    Settings settings = CommandSettings.read(spec, settings());
    CommandSettings.checkModel(spec, settings);
    String source = settings.get(JobSettings.SOURCE);
    if (source == null) {
      throw new ParameterException(
          spec.commandLine(), "give --source: a folder, kafka://… or redis://…?mode=stream");
    }
    Engine found =
        Engines.find(engine())
            .orElseThrow(
                () ->
                    new ParameterException(
                        spec.commandLine(),
                        "the %s module is not on the class path: run ./conveyor %s, which builds it on first use (or ./mvnw -P%s -DskipTests package)"
                            .formatted(engine(), engine(), engine())));
    Map<String, String> given = new LinkedHashMap<>(settings.given());
    boolean toStdout = settings.get(JobSettings.SINK).equals("-");
    long files = folderSize(source);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    ProgressBar bar = Progress.bar(engine(), files, " img", 1, true);
    java.util.concurrent.atomic.AtomicBoolean barOpen =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    try {
      CommandSettings.usage(
          spec,
          () ->
              found.runLocally(
                  given,
                  new Engine.Listener() {
                    @Override
                    public void result(String json) {
                      out.println(json);
                    }

                    private String status = "";
                    private long errors;

                    @Override
                    public void progress(long results, long errors) {
                      bar.stepTo(results);
                      this.errors = errors;
                      show();
                    }

                    @Override
                    public void status(String line) {
                      status = line;
                      show();
                    }

                    @Override
                    public void warning(String line) {
                      warnings.add(line);
                    }

                    private void show() {
                      String e = errors > 0 ? " " + errors + " errors" : "";
                      bar.setExtraMessage(status.isEmpty() ? e : e + " (" + status + ")");
                    }

                    @Override
                    public void finished(Engine.Report report) {
                      // said here, as the run ends: a run stopped by Ctrl-C or SIGTERM
                      // ends with the JVM, which does not wait for this command to go on
                      if (barOpen.getAndSet(false)) {
                        bar.close();
                      }
                      out.flush();
                      warnings.forEach(w -> err.println("warning: " + w));
                      err.printf(
                          "%s, %s%s%n",
                          report.summary(),
                          parallelism(given),
                          toStdout ? "" : "; results in " + settings.get(JobSettings.SINK));
                      err.flush();
                    }
                  }));
    } finally {
      if (barOpen.getAndSet(false)) {
        bar.close();
      }
    }
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
