package dev.conveyor.core.settings;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Values of declared settings, read from strings wherever they came from (options, a URI's query,
 * job arguments) and checked once. An unknown name or an invalid value is a {@link
 * ConveyorException} with {@link ErrorCode#INVALID_SETTING} that names it and what is allowed.
 */
public final class Settings {
  private final Map<String, Object> values;
  private final Map<String, String> given;
  private final Map<String, String> passedThrough;

  private Settings(
      Map<String, Object> values, Map<String, String> given, Map<String, String> passedThrough) {
    this.values = values;
    this.given = given;
    this.passedThrough = passedThrough;
  }

  /** No settings given: each one's value is its default. */
  public static Settings none() {
    return new Settings(Map.of(), Map.of(), Map.of());
  }

  /**
   * Reads {@code given} against the declarations of {@code groups}.
   *
   * @param where where the values came from, for error messages: {@code the URI redis://…}
   */
  public static Settings read(Map<String, String> given, String where, SettingGroup... groups) {
    Map<String, Setting<?>> known = new LinkedHashMap<>();
    List<String> prefixes = new ArrayList<>();
    for (SettingGroup g : groups) {
      g.settings().forEach(s -> known.put(s.name(), s));
      if (g.passThrough() != null) {
        prefixes.add(g.passThrough());
      }
    }
    Map<String, Object> values = new LinkedHashMap<>();
    Map<String, String> passed = new LinkedHashMap<>();
    List<String> unknown = new ArrayList<>();
    for (Map.Entry<String, String> e : given.entrySet()) {
      String key = e.getKey();
      String prefix = prefixes.stream().filter(key::startsWith).findFirst().orElse(null);
      if (prefix != null && key.length() > prefix.length()) {
        passed.put(key.substring(prefix.length()), e.getValue());
        continue;
      }
      Setting<?> setting = known.get(key);
      if (setting == null) {
        unknown.add(key);
        continue;
      }
      try {
        values.put(key, setting.read(e.getValue()));
      } catch (IllegalArgumentException bad) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING, bad.getMessage() + " (" + where + ")");
      }
    }
    if (!unknown.isEmpty()) {
      throw unknownSettings(unknown, where, known.keySet(), prefixes);
    }
    return new Settings(
        values,
        Collections.unmodifiableMap(new LinkedHashMap<>(given)),
        Collections.unmodifiableMap(passed));
  }

  private static ConveyorException unknownSettings(
      List<String> keys, String where, Iterable<String> known, List<String> prefixes) {
    StringBuilder m = new StringBuilder("unknown ").append(where).append(" settings ").append(keys);
    for (String key : keys) {
      String closest = Names.closest(key, known);
      if (closest != null) {
        m.append(" (did you mean '").append(closest).append("' for '").append(key).append("'?)");
      }
    }
    m.append("; known: ").append(String.join(", ", known));
    for (String p : prefixes) {
      m.append(", and ").append(p).append("* passed to the client library");
    }
    return new ConveyorException(ErrorCode.INVALID_SETTING, m.toString());
  }

  /** The setting's value: the one given, else its default (which may be {@code null}). */
  @SuppressWarnings("unchecked")
  public <T> T get(Setting<T> setting) {
    Object v = values.get(setting.name());
    return v != null ? (T) v : setting.defaultValue();
  }

  /** Whether the setting was given, rather than left to its default. */
  public boolean has(Setting<?> setting) {
    return values.containsKey(setting.name());
  }

  /** The settings as given, by name, as strings. */
  public Map<String, String> given() {
    return given;
  }

  /** The pass-through settings, with their prefix removed. */
  public Map<String, String> passedThrough() {
    return passedThrough;
  }
}
