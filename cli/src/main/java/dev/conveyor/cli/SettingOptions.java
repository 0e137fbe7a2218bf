package dev.conveyor.cli;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Turns declared settings into command-line options ({@code --batch N}) and reads back the ones
 * given, so that every setting a command takes is declared once, in its catalogue.
 */
final class SettingOptions {
  private SettingOptions() {}

  /** A command whose options include these settings. */
  interface Taking {
    SettingGroup[] settings();

    /**
     * Older option names this command still answers to, by setting name: {@code transport} as
     * {@code --from}, say. Help shows them beside the setting's own.
     */
    default Map<String, List<String>> aliases() {
      return Map.of();
    }
  }

  /** Adds one option per setting of the command's groups, with the command's aliases. */
  static void add(CommandSpec command, Taking taking) {
    Map<String, List<String>> aliases = taking.aliases();
    for (SettingGroup g : taking.settings()) {
      for (Setting<?> s : g.settings()) {
        command.addOption(option(s, aliases.getOrDefault(s.name(), List.of())));
      }
    }
  }

  private static OptionSpec option(Setting<?> s, List<String> aliases) {
    String doc = capitalized(s.doc().replace("`", "").replace("%", "%%")) + ".";
    if (s.defaultText() != null && !s.flag()) {
      doc += " Default: " + s.defaultText().replace("%", "%%") + ".";
    }
    List<String> names = new ArrayList<>();
    names.add("--" + s.name());
    if (s.name().equals("parallelism")) {
      names.add("-p");
    }
    aliases.forEach(a -> names.add("--" + a));
    OptionSpec.Builder b = OptionSpec.builder(names.toArray(String[]::new)).description(doc);
    if (s.flag()) {
      return b.type(boolean.class).arity("0").build();
    }
    return b.type(String.class).paramLabel(s.label()).arity("1").build();
  }

  private static String capitalized(String text) {
    return text.isEmpty() ? text : Character.toUpperCase(text.charAt(0)) + text.substring(1);
  }

  /** The settings of these groups given on the command line, by name, as text. */
  static Map<String, String> given(CommandSpec command, SettingGroup... groups) {
    ParseResult parsed = command.commandLine().getParseResult();
    Map<String, String> given = new LinkedHashMap<>();
    for (SettingGroup g : groups) {
      for (Setting<?> s : g.settings()) {
        OptionSpec o = command.findOption("--" + s.name());
        if (o != null && parsed.hasMatchedOption(o)) {
          given.put(s.name(), s.flag() ? "true" : String.valueOf((Object) o.getValue()));
        }
      }
    }
    return given;
  }
}
