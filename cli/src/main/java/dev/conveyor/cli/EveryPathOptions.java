package dev.conveyor.cli;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.bench.BenchChart;
import dev.conveyor.bench.BenchPlan;
import dev.conveyor.bench.EngineJob;
import dev.conveyor.bench.EngineRun;
import dev.conveyor.bench.EveryPath;
import dev.conveyor.bench.EveryPathReport;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * {@code bench}'s options for measuring every path in one run, and the engines' jobs that run
 * meanwhile in processes of their own: each engine's libraries are on the class path of a {@code
 * conveyor bench --engine NAME} started through the launcher, and never both in one process.
 */
final class EveryPathOptions {
  @Option(
      names = "--every-path",
      description =
          "Measure every path in one run, each against the raw model measured at its start, with"
              + " the CPU time per image of what carried it: the embedded pipeline, the HTTP server"
              + " (--http, 32 callers when not given), each --broker, and each of --engines' jobs"
              + " (from a folder, and from Kafka when a Kafka --broker is given). Prints one table"
              + " and writes a chart.")
  boolean enabled;

  @Option(
      names = "--broker",
      paramLabel = "URI",
      description =
          "With --every-path: a broker to run the pipeline through, its workers in this process;"
              + " repeat for each (redis://…?mode=list, redis://…?mode=stream, kafka://…,"
              + " postgresql://…?table=…).")
  List<String> brokers = new ArrayList<>();

  @Option(
      names = "--engines",
      paramLabel = "NAME",
      split = ",",
      defaultValue = "flink,spark",
      description =
          "With --every-path: the engines whose jobs are measured, each in a process of its own"
              + " (its module built on first use); none for no engine. Default: ${DEFAULT-VALUE}.")
  List<String> engines;

  @Option(
      names = "--engine-images",
      paramLabel = "N",
      description =
          "Measure only --engine's job, on N images (at least twice as many as there are), and"
              + " print what it measured as one JSON line: what --every-path runs for each engine.")
  int engineImages;

  /** The engine's job alone, its runs printed as one JSON line. */
  int engineOnly(String engine, BenchPlan plan, PrintWriter out) throws Exception {
    if (engine == null) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "--engine-images measures an engine's job: give --engine too");
    }
    List<EngineRun> runs = EngineJob.measure(EngineJob.find(engine), plan, engineImages);
    out.println(Json.write(runs));
    out.flush();
    return 0;
  }

  /**
   * Every path, printed as a table, charted, and with {@code json} as one JSON line.
   *
   * @param images the folder the images were read from, or null for generated ones
   * @param groups the setting groups of the command, whose given settings the engines' processes
   *     get too
   */
  EveryPathReport run(
      BenchPlan plan,
      List<Integer> http,
      Path images,
      SettingGroup[] groups,
      Path chart,
      boolean json,
      PrintWriter out)
      throws Exception {
    List<String> named =
        engines.size() == 1 && engines.get(0).equalsIgnoreCase("none") ? List.of() : engines;
    int callers = http.isEmpty() ? 32 : http.stream().mapToInt(Integer::intValue).max().getAsInt();
    EveryPathReport report =
        EveryPath.run(
            new EveryPath.Plan(
                plan,
                brokers,
                callers,
                named,
                (engine, count, broker) ->
                    inOwnProcess(engine, count, broker, plan, images, groups)));
    out.println(report.markdown());
    Path png =
        chart != null ? chart : Path.of("conveyor-bench-every-path-" + report.model() + ".png");
    BenchChart.write(report, png);
    out.println("chart: " + png);
    if (json) {
      out.println(Json.write(report.json()));
    }
    out.flush();
    return report;
  }

  /**
   * Runs {@code conveyor bench --engine ENGINE --engine-images N} with this run's settings and
   * images, its progress on this process's stderr, and reads the JSON line it prints.
   */
  private static List<EngineRun> inOwnProcess(
      String engine,
      int count,
      Optional<String> broker,
      BenchPlan plan,
      Path images,
      SettingGroup[] groups)
      throws Exception {
    String home = System.getProperty("conveyor.home");
    if (home == null || !Files.isExecutable(Path.of(home, "conveyor"))) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "--every-path runs each engine's job through the conveyor launcher: run it as"
              + " ./conveyor bench, or give --engines none");
    }
    List<String> command =
        new ArrayList<>(
            List.of(
                Path.of(home, "conveyor").toString(),
                "bench",
                "--engine",
                engine,
                "--engine-images",
                Integer.toString(count),
                "--engine-parallelism",
                Integer.toString(plan.parallelism()),
                "--seconds",
                Double.toString(plan.seconds())));
    if (images != null) {
      command.addAll(List.of("--images", images.toAbsolutePath().toString()));
    }
    for (SettingGroup group : groups) {
      for (Setting<?> s : group.settings()) {
        String value = plan.settings().given().get(s.name());
        if (value == null
            || s.equals(PipelineSettings.TRANSPORT)
            || s.equals(PipelineSettings.RESULTS_TO)) {
          continue;
        }
        command.add(s.flag() ? "--" + s.name() : "--" + s.name() + "=" + value);
      }
    }
    broker.ifPresent(uri -> command.addAll(List.of("--transport", uri)));
    Process p = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    p.getOutputStream().close();
    String last = null;
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line; (line = lines.readLine()) != null; ) {
        if (line.startsWith("[")) {
          last = line;
        }
      }
    }
    int exit = p.waitFor();
    if (exit != 0 || last == null) {
      throw new ConveyorException(
          ErrorCode.INTERNAL,
          "the %s job's process ended with exit code %d and no measurement; its messages are above"
              .formatted(engine, exit));
    }
    return Arrays.asList(Json.read(last, EngineRun[].class));
  }
}
