package dev.conveyor.core.settings;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Turns the forms settings arrive in into name-value strings: job arguments ({@code --batch 16
 * --spin}, as Flink's {@code ParameterTool} and {@code spark-submit} hand them over) and a URI's
 * query ({@code redis://host?mode=stream&group=g}).
 */
public final class Arguments {
  private Arguments() {}

  /**
   * Reads {@code --key value}, {@code --key=value} and bare {@code --flag} (true) arguments.
   *
   * @throws ConveyorException {@code INVALID_SETTING} for anything that is not such an argument
   */
  public static Map<String, String> fromArgs(String... args) {
    Map<String, String> map = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--") || a.length() == 2) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING, "expected --name value, not '" + a + "'");
      }
      int eq = a.indexOf('=');
      if (eq > 0) {
        map.put(a.substring(2, eq), a.substring(eq + 1));
      } else if (i + 1 < args.length && !args[i + 1].startsWith("--")) {
        map.put(a.substring(2), args[++i]);
      } else {
        map.put(a.substring(2), "true");
      }
    }
    return map;
  }

  /** A URI split at its query: what comes before the {@code ?}, and the decoded parameters. */
  public record Query(String base, Map<String, String> params) {
    /**
     * The query's settings of these groups, read and checked: {@code defaults} first, then the
     * query's parameters, then {@code overrides}, each winning over the one before.
     *
     * @param where what the settings came from, for errors ({@code "Redis URI"})
     * @throws ConveyorException {@code INVALID_SETTING} naming an unknown or invalid setting
     */
    public Settings settings(
        Map<String, String> defaults,
        Map<String, String> overrides,
        String where,
        SettingGroup... groups) {
      Map<String, String> given = new LinkedHashMap<>(defaults);
      given.putAll(params);
      given.putAll(overrides);
      return Settings.read(given, where, groups);
    }
  }

  private static final java.util.regex.Pattern USER_INFO =
      java.util.regex.Pattern.compile(
          "^([a-z][a-z0-9+.-]*://)([^/@?#]*)@", java.util.regex.Pattern.CASE_INSENSITIVE);

  /**
   * Schemes whose clients read a user part without a colon as the password ({@code
   * redis://secret@host}, as {@code redis-cli} does): it is hidden whole.
   */
  private static final java.util.Set<String> BARE_PASSWORD_SCHEMES =
      java.util.Set.of("redis://", "rediss://");

  private static final java.util.regex.Pattern SECRET_PARAM =
      java.util.regex.Pattern.compile(
          "([?&][^=&]*(?:password|secret|token|jaas|credential|key(?!-prefix))[^=&]*=)[^&]*",
          java.util.regex.Pattern.CASE_INSENSITIVE);

  /**
   * An address as it may be shown in errors and logs: a password in its user part (the whole user
   * part where a client would read it as a password), and the value of every query parameter whose
   * name speaks of a password, secret, token, key, credentials or JAAS configuration, replaced by
   * {@code ***}.
   */
  public static String redact(String uri) {
    if (uri == null) {
      return null;
    }
    java.util.regex.Matcher m = USER_INFO.matcher(uri);
    String out = uri;
    if (m.find()) {
      String user = m.group(2);
      int colon = user.indexOf(':');
      String shown =
          colon >= 0
              ? user.substring(0, colon) + ":***"
              : BARE_PASSWORD_SCHEMES.contains(m.group(1).toLowerCase(java.util.Locale.ROOT))
                  ? "***"
                  : user;
      out = m.group(1) + shown + "@" + uri.substring(m.end());
    }
    return SECRET_PARAM.matcher(out).replaceAll("$1***");
  }

  public static Query query(String uri) {
    int q = uri.indexOf('?');
    Map<String, String> params = new LinkedHashMap<>();
    if (q >= 0) {
      for (String pair : uri.substring(q + 1).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        String key = decode(eq < 0 ? pair : pair.substring(0, eq));
        params.put(key, eq < 0 ? "" : decode(pair.substring(eq + 1)));
      }
    }
    return new Query(q < 0 ? uri : uri.substring(0, q), params);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
