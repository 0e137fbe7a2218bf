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
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
          + "settings. With --update FILE (docs/settings.md) it rewrites the tables between the "
          + "file's <!-- settings:NAME --> and <!-- /settings --> markers instead, and adds a "
          + "section at the end for each group the file has no marker for.",
      "",
    })
final class SettingsCommand implements Callable<Integer> {
  private static final Pattern SECTION =
      Pattern.compile("(<!-- settings:([a-z-]+) -->\\n)(.*?)(<!-- /settings -->)", Pattern.DOTALL);

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = {"--update", "--update-readme"},
      paramLabel = "FILE",
      description =
          "Rewrite the settings tables of this file (docs/settings.md) in place."
              + " --update-readme is its old name.")
  Path file;

  /** A group of settings, and whether they are command options (else a URI's settings). */
  private record Group(SettingGroup settings, boolean options) {}

  /** Every group of settings, by the name its marked section carries. */
  private static Map<String, Group> groups() {
    Map<String, Group> groups = new LinkedHashMap<>();
    groups.put("model", new Group(PipelineSettings.MODEL_SETTINGS, true));
    groups.put("fetching", new Group(PipelineSettings.FETCH_SETTINGS, true));
    groups.put("batching", new Group(PipelineSettings.BATCH_SETTINGS, true));
    groups.put("results", new Group(PipelineSettings.RESULT_SETTINGS, true));
    groups.put("transport", new Group(PipelineSettings.TRANSPORT_SETTINGS, true));
    groups.put("workers", new Group(PipelineSettings.WORKER_SETTINGS, true));
    groups.put("models", new Group(PipelineSettings.REPOSITORY_SETTINGS, true));
    groups.put("server", new Group(ServerSettings.SERVER_SETTINGS, true));
    groups.put("jobs", new Group(JobSettings.FLINK, true));
    groups.put("spark-jobs", new Group(JobSettings.SPARK, true));
    for (BrokerProvider p : Brokers.providers()) {
      groups.put(p.schemes().get(0), new Group(p.settings(), false));
    }
    return groups;
  }

  /** Every group of settings, by the name its marked section carries, as markdown. */
  static Map<String, String> tables() {
    Map<String, String> tables = new LinkedHashMap<>();
    groups()
        .forEach((name, g) -> tables.put(name, SettingsTable.markdown(g.settings(), g.options())));
    return tables;
  }

  /** The names of the marked sections in the text, in their order. */
  static List<String> sections(String text) {
    List<String> names = new ArrayList<>();
    Matcher m = SECTION.matcher(text);
    while (m.find()) {
      names.add(m.group(2));
    }
    return names;
  }

  /**
   * The text with each marked section's table replaced by the catalogue's, and a section added at
   * the end for each group it has no marker for. A marker naming no group is left as it is.
   */
  static String updated(String text) {
    return updated(text, Set.of());
  }

  /** As {@link #updated(String)}, adding no section for the groups named in leaveOut. */
  static String updated(String text, Set<String> leaveOut) {
    Map<String, Group> groups = groups();
    Matcher m = SECTION.matcher(text);
    StringBuilder out = new StringBuilder();
    Set<String> seen = new HashSet<>();
    while (m.find()) {
      Group g = groups.get(m.group(2));
      String body = g != null ? SettingsTable.markdown(g.settings(), g.options()) : m.group(3);
      seen.add(m.group(2));
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(1) + body + m.group(4)));
    }
    m.appendTail(out);
    groups.forEach(
        (name, g) -> {
          if (!seen.contains(name) && !leaveOut.contains(name)) {
            if (out.length() > 0 && out.charAt(out.length() - 1) != '\n') {
              out.append('\n');
            }
            out.append("\n## ").append(g.settings().title()).append("\n\n");
            out.append("<!-- settings:").append(name).append(" -->\n");
            out.append(SettingsTable.markdown(g.settings(), g.options()));
            out.append("<!-- /settings -->\n");
          }
        });
    return out.toString();
  }

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (file != null) {
      String before = Files.readString(file);
      String after = updated(before);
      Files.writeString(file, after);
      out.println(before.equals(after) ? file + " is up to date" : "updated " + file);
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
