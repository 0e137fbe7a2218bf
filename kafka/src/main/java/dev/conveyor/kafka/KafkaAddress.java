package dev.conveyor.kafka;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * Where and how Conveyor uses Kafka, from a URI: {@code
 * kafka://host:port[,host:port]?topic=conveyor-images&results=conveyor-results&group=conveyor}.
 * Conveyor's own settings: {@code topic}, {@code results}, {@code group}, {@code partitions} (when
 * the topic is created, default 4) and {@code max-deliveries} (default 3). Every other setting is
 * passed to the Kafka clients as a property, such as {@code security.protocol=SASL_SSL}.
 */
public record KafkaAddress(
    String bootstrap,
    String topic,
    String results,
    String group,
    int partitions,
    int maxDeliveries,
    Map<String, String> clientProperties) {

  public static boolean handles(String uri) {
    return uri.startsWith("kafka://");
  }

  public static KafkaAddress parse(String text) {
    if (!handles(text)) {
      throw new IllegalArgumentException(
          "not a Kafka URI: '%s'; expected kafka://host:port?topic=…".formatted(text));
    }
    String rest = text.substring("kafka://".length());
    int q = rest.indexOf('?');
    String hosts = q < 0 ? rest : rest.substring(0, q);
    if (hosts.endsWith("/")) {
      hosts = hosts.substring(0, hosts.length() - 1);
    }
    if (hosts.isBlank()) {
      throw new IllegalArgumentException("the Kafka URI names no broker: " + text);
    }
    Map<String, String> query = new LinkedHashMap<>();
    if (q >= 0) {
      for (String pair : rest.substring(q + 1).split("&")) {
        if (pair.isEmpty()) {
          continue;
        }
        int eq = pair.indexOf('=');
        query.put(
            eq < 0 ? pair : pair.substring(0, eq),
            eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
      }
    }
    String topic = query.remove("topic");
    String results = query.remove("results");
    String group = query.remove("group");
    int partitions = positive(query.remove("partitions"), 4, "partitions");
    int maxDeliveries = positive(query.remove("max-deliveries"), 3, "max-deliveries");
    return new KafkaAddress(
        hosts,
        topic != null ? topic : "conveyor-images",
        results != null ? results : "conveyor-results",
        group != null ? group : "conveyor",
        partitions,
        maxDeliveries,
        Map.copyOf(query));
  }

  private static int positive(String value, int fallback, String name) {
    if (value == null) {
      return fallback;
    }
    try {
      int n = Integer.parseInt(value);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        name + " must be a positive whole number, not '" + value + "'");
  }

  /** The dead-letter topic: {@code TOPIC-dlq}. */
  public String deadLetter() {
    return topic + "-dlq";
  }

  /** Client properties: the bootstrap servers and the pass-through settings. */
  Properties properties() {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.putAll(clientProperties);
    return p;
  }

  public String describe() {
    return "kafka://%s %s".formatted(bootstrap, topic);
  }
}
