package dev.conveyor.core.settings;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One setting, declared once: its name, how its text is read and checked, its default and a line of
 * documentation. The same declaration becomes a command-line option ({@code --name}), a URI query
 * parameter ({@code ?name=…}), a job argument and a row of docs/settings.md's tables.
 *
 * @param name lower-case words joined by hyphens: {@code linger-ms}, {@code max-deliveries}
 * @param label what the value looks like in help: {@code N}, {@code PATH}, {@code rgb|bgr|gray}
 * @param doc one line for people
 * @param defaultText the default as people read it ({@code one per core}), or {@code null} for none
 * @param defaultValue the default, or {@code null} for none
 * @param parse reads the text; throws {@link IllegalArgumentException} saying what is allowed
 * @param allowed what values are allowed, for error messages
 * @param flag whether it is a switch: given without a value on the command line
 */
public record Setting<T>(
    String name,
    String label,
    String doc,
    String defaultText,
    T defaultValue,
    Function<String, T> parse,
    String allowed,
    boolean flag) {

  public Setting {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(doc, "doc");
    if (!name.matches("[a-z][a-z0-9]*(-[a-z0-9]+)*")) {
      throw new IllegalArgumentException("setting names are lower-case-with-hyphens: " + name);
    }
  }

  /** Reads and checks {@code text}, or fails naming this setting and what it allows. */
  public T read(String text) {
    try {
      return parse.apply(text.trim());
    } catch (UnknownWord e) {
      throw new IllegalArgumentException(
          "unknown %s '%s': %s must be %s".formatted(name, text, name, allowed), e);
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "%s must be %s, not '%s'".formatted(name, allowed, text), e);
    }
  }

  /** The same setting, its value shown in help as {@code label}. */
  public Setting<T> withLabel(String label) {
    return new Setting<>(name, label, doc, defaultText, defaultValue, parse, allowed, flag);
  }

  /** The same setting with another default. */
  public Setting<T> withDefault(T value, String text) {
    return new Setting<>(name, label, doc, text, value, parse, allowed, flag);
  }

  public static Setting<String> text(String name, String defaultValue, String doc) {
    return new Setting<>(
        name,
        "TEXT",
        doc,
        defaultValue,
        defaultValue,
        checked(s -> !s.isEmpty(), s -> s),
        "some text",
        false);
  }

  /** Text checked by {@code valid} (for values another class parses), {@code null} by default. */
  public static Setting<String> text(
      String name, String label, String doc, Predicate<String> valid, String allowed) {
    return new Setting<>(name, label, doc, null, null, checked(valid, s -> s), allowed, false);
  }

  public static Setting<String> secret(String name, String doc) {
    return new Setting<>(name, "TEXT", doc, null, null, s -> s, "some text", false);
  }

  public static Setting<Integer> integer(String name, int defaultValue, int min, String doc) {
    return whole(name, defaultValue, min, Integer::parseInt, doc);
  }

  public static Setting<Long> longInteger(String name, long defaultValue, long min, String doc) {
    return whole(name, defaultValue, min, Long::parseLong, doc);
  }

  private static <N extends Number & Comparable<N>> Setting<N> whole(
      String name, N defaultValue, N min, Function<String, N> parse, String doc) {
    return new Setting<>(
        name,
        "N",
        doc,
        defaultValue.toString(),
        defaultValue,
        checked(n -> n.compareTo(min) >= 0, parse),
        min.longValue() == 1 ? "a positive whole number" : "a whole number, at least " + min,
        false);
  }

  /** A duration given in whole seconds. */
  public static Setting<Duration> seconds(String name, long defaultSeconds, String doc) {
    return new Setting<>(
        name,
        "S",
        doc,
        Long.toString(defaultSeconds),
        Duration.ofSeconds(defaultSeconds),
        checked(d -> !d.isNegative() && !d.isZero(), s -> Duration.ofSeconds(Long.parseLong(s))),
        "a positive whole number of seconds",
        false);
  }

  public static Setting<Boolean> flag(String name, String doc) {
    return new Setting<>(name, "", doc, "off", false, Setting::bool, "true or false", true);
  }

  public static Setting<Path> path(String name, String label, String doc) {
    return new Setting<>(
        name,
        label,
        doc,
        null,
        null,
        checked(p -> !p.toString().isEmpty(), Path::of),
        "a file path",
        false);
  }

  /** One of a few words, case-insensitive; the value is the word in lower case. */
  public static Setting<String> choice(
      String name, String defaultValue, String doc, String... words) {
    List<String> allowed = Arrays.asList(words);
    return new Setting<>(
        name,
        String.join("|", words),
        doc,
        defaultValue,
        defaultValue,
        s -> {
          String word = s.toLowerCase(Locale.ROOT);
          if (!allowed.contains(word)) {
            throw new UnknownWord();
          }
          return word;
        },
        oneOf(words),
        false);
  }

  /** A word that is not among a choice's. */
  private static final class UnknownWord extends IllegalArgumentException {}

  private static String oneOf(String... words) {
    int last = words.length - 1;
    return last == 0
        ? words[0]
        : String.join(", ", Arrays.copyOf(words, last)) + " or " + words[last];
  }

  private static boolean bool(String s) {
    return switch (s.toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on", "1", "" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new IllegalArgumentException("not a boolean");
    };
  }

  private static <T> Function<String, T> checked(Predicate<T> valid, Function<String, T> parse) {
    return s -> {
      T value = parse.apply(s);
      if (!valid.test(value)) {
        throw new IllegalArgumentException("out of range");
      }
      return value;
    };
  }
}
