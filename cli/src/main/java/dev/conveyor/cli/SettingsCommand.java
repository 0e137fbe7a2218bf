package dev.conveyor.cli;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.SettingsTable;
import dev.conveyor.core.transport.BrokerProvider;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.server.ServerSettings;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code conveyor settings}: every setting Conveyor takes, from the one catalogue. */
@Command(
    name = "settings",
    header = "List every setting: options, broker URI settings, defaults.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Prints every setting as markdown tables: the pipeline's (options of classify, "
          + "worker, serve, bench, eval; job arguments of the engines) and each broker's URI "
          + "settings. With --update-readme FILE it rewrites the tables between the file's <!-- "
          + "settings:NAME --> and <!-- /settings --> markers instead.",
      "",
    })
final class SettingsCommand implements Callable<Integer> {
  private static final Pattern SECTION =
      Pattern.compile("(<!-- settings:([a-z-]+) -->\\n)(.*?)(<!-- /settings -->)", Pattern.DOTALL);

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--update-readme",
      paramLabel = "FILE",
      description = "Rewrite the settings tables of this file (the README) in place.")
  Path readme;

  /** A group of settings, and whether they are command options (else a URI's settings). */
  private record Group(SettingGroup settings, boolean options) {}

  /** Every group of settings, by the name its README section carries. */
  private static Map<String, Group> groups() {
    Map<String, Group> groups = new LinkedHashMap<>();
    groups.put("model", new Group(PipelineSettings.MODEL_SETTINGS, true));
    groups.put("fetching", new Group(PipelineSettings.FETCH_SETTINGS, true));
    groups.put("batching", new Group(PipelineSettings.BATCH_SETTINGS, true));
    groups.put("results", new Group(PipelineSettings.RESULT_SETTINGS, true));
    groups.put("server", new Group(ServerSettings.SERVER_SETTINGS, true));
    groups.put("jobs", new Group(JobSettings.FLINK, true));
    groups.put("spark-jobs", new Group(JobSettings.SPARK, true));
    for (BrokerProvider p : Brokers.providers()) {
      groups.put(p.schemes().get(0), new Group(p.settings(), false));
    }
    return groups;
  }

  /** Every group of settings, by the name its README section carries, as markdown. */
  static Map<String, String> tables() {
    Map<String, String> tables = new LinkedHashMap<>();
    groups()
        .forEach((name, g) -> tables.put(name, SettingsTable.markdown(g.settings(), g.options())));
    return tables;
  }

  /** The text with each marked section's table replaced by the catalogue's. */
  static String updated(String text) {
    Map<String, String> tables = tables();
    Matcher m = SECTION.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String table = tables.get(m.group(2));
      String body = table != null ? table : m.group(3);
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + body + m.group(4)));
    }
    m.appendTail(out);
    return out.toString();
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (readme != null) {
      String before = Files.readString(readme);
      String after = updated(before);
      Files.writeString(readme, after);
      out.println(before.equals(after) ? readme + " is up to date" : "updated " + readme);
      out.flush();
      return 0;
    }
    groups()
        .forEach(
            (name, g) -> {
              out.println("## " + g.settings().title() + "\n");
              out.println(SettingsTable.markdown(g.settings(), g.options()));
            });
    out.flush();
    return 0;
  }
}
