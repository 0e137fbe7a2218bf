package dev.conveyor.cli;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import java.util.LinkedHashMap;
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
  }

  /** Adds one option per setting of the groups to the command. */
  static void add(CommandSpec command, SettingGroup... groups) {
    for (SettingGroup g : groups) {
      for (Setting<?> s : g.settings()) {
        command.addOption(option(s));
      }
    }
  }

  private static OptionSpec option(Setting<?> s) {
    String doc = capitalized(s.doc().replace("`", "").replace("%", "%%")) + ".";
    if (s.defaultText() != null && !s.flag()) {
      doc += " Default: " + s.defaultText().replace("%", "%%") + ".";
    }
    OptionSpec.Builder b =
        (s.name().equals("parallelism")
                ? OptionSpec.builder("--" + s.name(), "-p")
                : OptionSpec.builder("--" + s.name()))
            .description(doc);
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
