package dev.conveyor.kafka;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.SecretFiles;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The client's {@code sasl.jaas.config}, which holds the SASL password, kept out of the command
 * line where every local user can read it: from the URI's {@code sasl-jaas-file}, else, on a SASL
 * connection, from the {@value #VARIABLE} environment variable.
 */
final class KafkaJaas {
  /** The environment variable the JAAS configuration may come from. */
  static final String VARIABLE = "CONVEYOR_KAFKA_SASL_JAAS_CONFIG";

  static final String PROPERTY = "sasl.jaas.config";

  /** What names the file, in errors. */
  private static final String SETTING = "the Kafka URI's sasl-jaas-file";

  /** A JAAS file's one section, as {@code java.security.auth.login.config} files have it. */
  private static final Pattern SECTION =
      Pattern.compile("\\s*[A-Za-z_][\\w.-]*\\s*\\{(.*)}\\s*;?\\s*", Pattern.DOTALL);

  private KafkaJaas() {}

  /**
   * The client properties with {@code sasl.jaas.config} from {@code file} or the environment when
   * the URI's properties do not give it.
   *
   * @throws ConveyorException {@code INVALID_SETTING} for a file that cannot be read or is empty,
   *     or for both a file and {@code kafka.sasl.jaas.config}; never with the file's text in it
   */
  static Map<String, String> apply(
      Map<String, String> client, Path file, Map<String, String> environment) {
    if (client.containsKey(PROPERTY) && file != null) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "the Kafka URI has kafka.sasl.jaas.config and sasl-jaas-file: give one (the file keeps it out of ps)");
    }
    String jaas = null;
    if (file != null) {
      jaas = read(file);
    } else if (!client.containsKey(PROPERTY) && sasl(client)) {
      String variable = environment.get(VARIABLE);
      jaas = variable == null || variable.isBlank() ? null : variable.strip();
    }
    if (jaas == null) {
      return client;
    }
    Map<String, String> with = new LinkedHashMap<>(client);
    with.put(PROPERTY, jaas);
    return with;
  }

  private static boolean sasl(Map<String, String> client) {
    return client
        .getOrDefault("security.protocol", "")
        .toUpperCase(Locale.ROOT)
        .startsWith("SASL_");
  }

  /** The file's JAAS configuration, unwrapped from its section if it has one. */
  static String read(Path file) {
    String text = SecretFiles.text(file, SETTING, "a JAAS configuration");
    Matcher section = SECTION.matcher(text);
    String jaas = (section.matches() ? section.group(1) : text).strip();
    if (jaas.isEmpty()) {
      throw SecretFiles.failed(SETTING, file, "is empty");
    }
    return jaas;
  }
}
