package dev.conveyor.core.settings;

/** Writes a group's declarations as the markdown table docs/settings.md shows. */
public final class SettingsTable {
  private SettingsTable() {}

  /**
   * One row per setting: name (as {@code prefix + name}, such as {@code --batch N} or {@code
   * group}), default, meaning.
   *
   * @param option whether to write names as command-line options
   */
  public static String markdown(SettingGroup group, boolean option) {
    StringBuilder b = new StringBuilder();
    b.append(option ? "| option | default | meaning |\n" : "| setting | default | meaning |\n");
    b.append("|---|---|---|\n");
    for (Setting<?> s : group.settings()) {
      String name =
          option
              ? "--" + s.name() + (s.flag() || s.label().isEmpty() ? "" : " " + s.label())
              : s.name();
      String d = s.defaultText();
      String dflt = d == null ? "" : d.contains(" ") ? d : "`" + d + "`";
      b.append("| `")
          .append(name.replace("|", "\\|"))
          .append("` | ")
          .append(dflt)
          .append(" | ")
          .append(s.doc().replace("|", "\\|"))
          .append(" |\n");
    }
    if (group.passThrough() != null) {
      b.append("| `")
          .append(group.passThrough())
          .append("*` |  | passed to the client library without the prefix |\n");
    }
    return b.toString();
  }
}
