package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The catalogue is the only declaration of a setting: no command declares an option of its own
 * under a setting's name, so one name never means two things.
 */
@Timeout(30)
class CatalogueOptionsTest {
  @Test
  void noCommandDeclaresItsOwnOptionUnderASettingsName() {
    CommandLine main = Main.commandLine();
    Set<String> settings = new TreeSet<>();
    for (CommandLine sub : main.getSubcommands().values()) {
      if (sub.getCommand() instanceof SettingOptions.Taking taking) {
        for (SettingGroup g : taking.settings()) {
          g.settings().stream().map(Setting::name).forEach(settings::add);
        }
      }
    }
    assertThat(settings).as("the catalogue's settings, as options").contains("batch", "transport");

    List<String> own = new ArrayList<>();
    List<String> clashes = new ArrayList<>();
    for (CommandLine sub : main.getSubcommands().values()) {
      for (OptionSpec o : sub.getCommandSpec().options()) {
        // annotated fields are the command's own; the catalogue's options are added in code
        boolean isOwn = o.userObject() instanceof java.lang.reflect.Field;
        String name = o.longestName().replaceFirst("^--", "");
        if (isOwn) {
          own.add(sub.getCommandName() + " --" + name);
        }
        if (isOwn && settings.contains(name)) {
          clashes.add(sub.getCommandName() + " --" + name);
        }
      }
    }
    assertThat(own).as("the commands' own options are seen").contains("train --epochs");
    assertThat(clashes).as("options that bypass the catalogue").isEmpty();
  }
}
