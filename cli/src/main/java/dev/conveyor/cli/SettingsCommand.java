package dev.conveyor.cli;

import dev.conveyor.core.broker.BrokerProvider;
import dev.conveyor.core.broker.Brokers;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.SettingsTable;
import dev.conveyor.pipeline.PipelineSettings;
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

  /** Every group of settings, by the name its README section carries, as markdown. */
  static Map<String, String> tables() {
    Map<String, String> tables = new LinkedHashMap<>();
    tables.put("model", SettingsTable.markdown(PipelineSettings.MODEL_SETTINGS, true));
    tables.put("fetching", SettingsTable.markdown(PipelineSettings.FETCH_SETTINGS, true));
    tables.put("batching", SettingsTable.markdown(PipelineSettings.BATCH_SETTINGS, true));
    tables.put("results", SettingsTable.markdown(PipelineSettings.RESULT_SETTINGS, true));
    tables.put("server", SettingsTable.markdown(ServerSettings.SERVER_SETTINGS, true));
    tables.put("jobs", SettingsTable.markdown(JobSettings.FLINK, true));
    tables.put("spark-jobs", SettingsTable.markdown(JobSettings.SPARK, true));
    for (BrokerProvider p : Brokers.providers()) {
      tables.put(p.schemes().get(0), SettingsTable.markdown(p.settings(), false));
    }
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
    Map<String, SettingGroup> groups = new LinkedHashMap<>();
    groups.put("model", PipelineSettings.MODEL_SETTINGS);
    groups.put("fetching", PipelineSettings.FETCH_SETTINGS);
    groups.put("batching", PipelineSettings.BATCH_SETTINGS);
    groups.put("results", PipelineSettings.RESULT_SETTINGS);
    groups.put("server", ServerSettings.SERVER_SETTINGS);
    for (BrokerProvider p : Brokers.providers()) {
      groups.put(p.schemes().get(0), p.settings());
    }
    tables()
        .forEach(
            (name, table) -> {
              out.println("## " + groups.get(name).title() + "\n");
              out.println(table);
            });
    out.flush();
    return 0;
  }
}
