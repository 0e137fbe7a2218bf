package dev.conveyor.core.settings;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Settings declared together, such as the model's or a broker's URI parameters. A group may also
 * pass settings with a given prefix (say {@code kafka.}) through to a client library unread.
 *
 * @param title for people and docs/settings.md: {@code Model and preprocessing}
 * @param settings the declarations, in the order they are documented
 * @param passThrough a prefix whose settings go to a client library as they are, or {@code null}
 */
public record SettingGroup(String title, List<Setting<?>> settings, String passThrough) {

  public SettingGroup {
    settings = List.copyOf(settings);
    Map<String, Setting<?>> seen = new LinkedHashMap<>();
    for (Setting<?> s : settings) {
      if (seen.put(s.name(), s) != null) {
        throw new IllegalArgumentException("setting declared twice: " + s.name());
      }
    }
  }

  public static SettingGroup of(String title, Setting<?>... settings) {
    return new SettingGroup(title, List.of(settings), null);
  }

  /** The same group, passing settings that start with {@code prefix} through unread. */
  public SettingGroup passingThrough(String prefix) {
    return new SettingGroup(title, settings, prefix);
  }
}
