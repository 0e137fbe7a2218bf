package dev.conveyor.cli;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.Engines;
import dev.conveyor.core.engine.JobPlan;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code conveyor flink} and {@code conveyor spark}: one command, added once per engine ({@link
 * #addTo}), that runs the engine's job or query on an embedded cluster in this process, with a
 * progress bar and a summary. The engine's module is found at run time ({@link Engines}); the
 * {@code conveyor} launcher builds it on first use and puts it on the class path.
 */
@Command(mixinStandardHelpOptions = true, sortOptions = false)
final class EngineCommand implements Callable<Integer>, SettingOptions.Taking {
  /**
   * What the command says about one engine, with or without its module on the class path.
   *
   * @param name the engine's name, as found by {@link Engines} and as the command is called
   * @param settings the engine's own settings, before the pipeline's
   * @param description what the command runs, one paragraph
   * @param firstUse what the launcher does the first time the engine is asked for
   */
  record Kind(
      String name, SettingGroup settings, String header, String description, String firstUse) {}

  static final Kind FLINK =
      new Kind(
          "flink",
          JobSettings.FLINK,
          "Run the Flink job on an embedded Flink cluster: a folder, Kafka or a Redis stream.",
          "Runs dev.conveyor.flink.ClassifyJob, the job that 'flink run' takes from "
              + "conveyor-flink.jar, on a Flink MiniCluster in this process: each parallel task "
              + "holds one model and classifies its share of the requests in batches. With --sink "
              + "- it prints one JSON result per image; at the end of a bounded source (a folder, "
              + "or --until-end) it prints the job's runtime and images/s. Stop an unbounded job "
              + "with Ctrl-C.",
          "The first use builds the Flink module: about 170 MB of Flink's libraries from Maven.");

  static final Kind SPARK =
      new Kind(
          "spark",
          JobSettings.SPARK,
          "Run the Spark Structured Streaming query on local[*]: a folder, Kafka or a Redis stream.",
          "Runs dev.conveyor.spark.ClassifyQuery, the query that 'spark-submit' takes from "
              + "conveyor-spark.jar, on Spark's local[*] in this process: each partition of each "
              + "micro-batch is classified in batches by the executor's one model. With --sink - "
              + "it prints one JSON result per image; a folder is read once (or watched, with "
              + "--watch), and a broker source with --until-end is read up to its end, then the "
              + "query ends with its runtime and images/s. The checkpoint location defaults to a "
              + "folder under .conveyor/spark-checkpoints named after the source and sink.",
          "The first use builds the Spark module (Spark's libraries from Maven).");

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  private final Kind kind;

  private EngineCommand(Kind kind) {
    this.kind = kind;
  }

  /**
   * Adds the command to {@code conveyor} once per engine, named after it, where the command list
   * has them: after the subcommand {@code after}.
   */
  static void addTo(CommandLine conveyor, String after, Kind... kinds) {
    List<CommandLine> later = new ArrayList<>();
    boolean past = false;
    for (CommandLine sub : new LinkedHashSet<>(conveyor.getSubcommands().values())) {
      if (past) {
        later.add(sub);
      }
      past |= sub.getCommandName().equals(after);
    }
    later.forEach(sub -> conveyor.getCommandSpec().removeSubcommand(sub.getCommandName()));
    for (Kind kind : kinds) {
      CommandLine line = new CommandLine(new EngineCommand(kind));
      line.getCommandSpec()
          .usageMessage()
          .header(kind.header())
          .description(kind.description(), "", kind.firstUse(), "");
      conveyor.addSubcommand(kind.name(), line);
    }
    later.forEach(sub -> conveyor.addSubcommand(sub.getCommandName(), sub));
  }

  @Override
  public SettingGroup[] settings() {
    SettingGroup[] groups = new SettingGroup[CommandSettings.PIPELINE.length + 2];
    groups[0] = kind.settings();
    System.arraycopy(CommandSettings.PIPELINE, 0, groups, 1, CommandSettings.PIPELINE.length);
    groups[groups.length - 1] = PipelineSettings.REPOSITORY_SETTINGS;
    return groups;
  }

  @Override
  public Integer call() throws Exception {
    Settings settings = CommandSettings.read(spec, settings());
    if (settings.has(PipelineSettings.MODELS)) {
      // read here as each task will, so that a repository that cannot be served is said now
      CommandSettings.usage(spec, () -> ServedModels.open(settings)).close();
    } else {
      CommandSettings.checkModel(spec, settings);
    }
    String source = settings.get(JobSettings.SOURCE);
    if (source == null) {
      throw new ParameterException(
          spec.commandLine(), "give --source: a folder, kafka://… or redis://…?mode=stream");
    }
    Engine found =
        Engines.find(kind.name())
            .orElseThrow(
                () ->
                    new ParameterException(
                        spec.commandLine(),
                        "the %s module is not on the class path: run ./conveyor %s, which builds it on first use (or ./mvnw -P%s -DskipTests package)"
                            .formatted(kind.name(), kind.name(), kind.name())));
    Map<String, String> given = new LinkedHashMap<>(settings.given());
    boolean toStdout = settings.get(JobSettings.SINK).equals(JobPlan.STDOUT);
    long files = folderSize(source);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    List<String> warnings = new java.util.concurrent.CopyOnWriteArrayList<>();
    ProgressBar bar = Progress.bar(kind.name(), files, " img", 1, true);
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
                          found.localParallelism(settings.get(JobSettings.PARALLELISM)),
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
    Path folder = JobPlan.folder(source);
    if (!JobPlan.isFolder(source) || !Files.isDirectory(folder)) {
      return -1;
    }
    return ImageFiles.expand(List.of(folder)).size();
  }
}
