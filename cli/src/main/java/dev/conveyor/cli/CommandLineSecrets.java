package dev.conveyor.cli;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.transport.BrokerProvider;
import dev.conveyor.core.transport.Brokers;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * Secrets given on the command line, where every local user can read them ({@code ps}): one warning
 * line for each, naming where the secret can come from instead. For a broker URI that is read from
 * the broker's own settings catalogue, so that a new broker needs nothing here: its {@code
 * …password-file} or {@code …jaas-file} setting, and the environment variables (upper-case names)
 * its doc gives as the fallback.
 */
final class CommandLineSecrets {
  /** A URI's user part with a password: {@code redis://alice:PASSWORD@}. */
  private static final Pattern USER_PASSWORD =
      Pattern.compile("^[a-z][a-z0-9+.-]*://[^/@?#]*:[^/@?#]+@", Pattern.CASE_INSENSITIVE);

  /** A query parameter that holds a secret: {@code kafka.sasl.jaas.config}, {@code …password}. */
  private static final Pattern SECRET_PARAMETER =
      Pattern.compile("(password|secret|jaas\\.config)$", Pattern.CASE_INSENSITIVE);

  /** A broker's setting that reads a secret from a file: {@code password-file}. */
  private static final Pattern SECRET_FILE = Pattern.compile("(password|secret|jaas)-file$");

  /** An environment variable a secret-file setting's doc names as its fallback. */
  private static final Pattern VARIABLE = Pattern.compile("\\b[A-Z][A-Z0-9_]{4,}\\b");

  private CommandLineSecrets() {}

  /**
   * Prints {@code conveyor COMMAND: WHAT on the command line can be read by every local user (ps);
   * prefer INSTEAD} on the command's error stream.
   */
  static void warn(CommandSpec spec, String what, String instead) {
    spec.commandLine()
        .getErr()
        .println(
            "conveyor %s: %s on the command line can be read by every local user (ps); prefer %s"
                .formatted(spec.name(), what, instead));
  }

  /**
   * Warns about each option of the command line (and its subcommands) whose value, as typed, is a
   * URI carrying a password or a JAAS configuration; values read from an {@code @file} are not on
   * the command line and draw no warning.
   */
  static void warnAboutUris(ParseResult parsed) {
    for (ParseResult p = parsed; p != null; p = p.hasSubcommand() ? p.subcommand() : null) {
      for (OptionSpec o : p.matchedOptions()) {
        for (String value : o.originalStringValues()) {
          String secret = inlineSecret(value);
          if (secret != null && typed(parsed, value)) {
            warn(p.commandSpec(), secret + " in " + o.longestName(), instead(value, secret));
          }
        }
      }
    }
  }

  private static boolean typed(ParseResult parsed, String value) {
    return parsed.originalArgs().stream().anyMatch(a -> a.contains(value));
  }

  /**
   * What secret a URI carries in its text: {@code "the password"}, the name of a parameter that
   * holds one, or {@code null} for none.
   */
  static String inlineSecret(String uri) {
    if (!uri.contains("://")) {
      return null;
    }
    if (USER_PASSWORD.matcher(uri).find()) {
      return "the password";
    }
    int query = uri.indexOf('?');
    for (String pair : query < 0 ? new String[0] : uri.substring(query + 1).split("&")) {
      String name = pair.split("=", 2)[0];
      if (SECRET_PARAMETER.matcher(name).find()) {
        return name;
      }
    }
    return null;
  }

  /**
   * Where the URI's broker can take {@code secret} from instead: its secret-file settings for that
   * kind of secret ({@code password-file} for a password, {@code sasl-jaas-file} for {@code
   * kafka.sasl.jaas.config}), and the environment variables their docs name as the fallback.
   */
  static String instead(String uri, String secret) {
    String scheme = uri.substring(0, uri.indexOf("://")).toLowerCase(Locale.ROOT);
    Set<String> kind = words(secret);
    List<String> files = new ArrayList<>();
    Set<String> variables = new LinkedHashSet<>();
    for (BrokerProvider p : Brokers.providers()) {
      if (p.schemes().contains(scheme)) {
        for (Setting<?> s : p.settings().settings()) {
          if (SECRET_FILE.matcher(s.name()).find()
              && words(s.name()).stream().anyMatch(kind::contains)) {
            files.add(s.name() + "=FILE");
            Matcher m = VARIABLE.matcher(s.doc());
            while (m.find()) {
              variables.add(m.group());
            }
          }
        }
      }
    }
    if (files.isEmpty()) {
      return "a file or the environment where the broker offers one (see docs/settings.md)";
    }
    String instead = String.join(" or ", files) + " in the URI";
    return variables.isEmpty()
        ? instead
        : instead + " or the " + String.join(" or ", variables) + " environment variable";
  }

  /** The words of a name, but {@code file}: {@code sasl-jaas-file} is {@code [sasl, jaas]}. */
  private static Set<String> words(String name) {
    Set<String> words =
        new LinkedHashSet<>(List.of(name.toLowerCase(Locale.ROOT).split("[^a-z0-9]+")));
    words.remove("file");
    words.remove("the");
    return words;
  }
}
