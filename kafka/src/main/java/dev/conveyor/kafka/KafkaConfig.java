package dev.conveyor.kafka;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.BrokerUri;
import dev.conveyor.core.settings.Settings;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Where and how Conveyor uses Kafka, from a URI: {@code
 * kafka://host:port[,host:port]?topic=conveyor-images&results=conveyor-results&group=conveyor}.
 * {@link #partitionsGiven()} says whether the URI (or {@code --partitions}) gave {@code
 * partitions}: only then are existing topics checked against it ({@link Topics#ensure}). Conveyor's
 * own settings are declared in {@link KafkaSettings}; settings for the Kafka clients come with the
 * prefix {@code kafka.} ({@code kafka.security.protocol=SASL_SSL}). Anything else is an error
 * naming it. The JAAS configuration may come from a file or the environment instead, out of sight
 * of {@code ps} ({@link KafkaJaas}).
 */
public record KafkaConfig(
    String bootstrap,
    String topic,
    RequestFormat format,
    String results,
    String replyPrefix,
    String group,
    int partitions,
    boolean partitionsGiven,
    int maxDeliveries,
    Map<String, String> clientProperties,
    boolean exactlyOnce) {

  /** What Kafka URIs look like. */
  static final BrokerUri.Kind KIND =
      new BrokerUri.Kind("Kafka", List.of("kafka"), "kafka://host:port?topic=…", KafkaSettings.ALL);

  public static boolean handles(String uri) {
    return KIND.handles(uri);
  }

  public static KafkaConfig parse(String text) {
    return parse(text, Map.of());
  }

  /**
   * Reads a Kafka URI; {@code overrides} win over its query.
   *
   * @throws ConveyorException {@code INVALID_SETTING} naming what is wrong
   */
  public static KafkaConfig parse(String text, Map<String, String> overrides) {
    return parse(text, overrides, System.getenv());
  }

  /** The same, a JAAS configuration the URI leaves out coming from {@code environment}. */
  static KafkaConfig parse(
      String text, Map<String, String> overrides, Map<String, String> environment) {
    BrokerUri uri = BrokerUri.parse(text, KIND, Map.of(), overrides);
    Settings s = uri.settings();
    return new KafkaConfig(
        uri.hosts(),
        s.get(KafkaSettings.TOPIC),
        format(s),
        s.get(KafkaSettings.RESULTS),
        replyPrefix(s),
        s.get(KafkaSettings.GROUP),
        s.get(KafkaSettings.PARTITIONS),
        s.has(KafkaSettings.PARTITIONS),
        s.get(KafkaSettings.MAX_DELIVERIES),
        Map.copyOf(
            KafkaJaas.apply(s.passedThrough(), s.get(KafkaSettings.SASL_JAAS_FILE), environment)),
        s.get(KafkaSettings.DELIVERY).equals("exactly-once"));
  }

  /** How the requests topic's records are read: {@code requests} and {@code key-prefix}. */
  private static RequestFormat format(Settings s) {
    boolean keys = s.get(KafkaSettings.REQUESTS).equals("keys");
    String prefix = s.get(KafkaSettings.KEY_PREFIX);
    prefix = prefix.equals("none") ? "" : prefix;
    if (!keys && !prefix.isEmpty()) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "key-prefix applies to bare keys: add requests=keys, or leave key-prefix out");
    }
    return new RequestFormat(keys, prefix);
  }

  /** The reply namespace, checked to hold none of the topics Conveyor reads or writes itself. */
  private static String replyPrefix(Settings s) {
    String prefix = s.get(KafkaSettings.REPLY_PREFIX);
    for (String topic :
        java.util.List.of(s.get(KafkaSettings.TOPIC), s.get(KafkaSettings.RESULTS))) {
      if (topic.startsWith(prefix)) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "reply-prefix '%s' would let requests name the topic '%s': give reply-prefix a namespace of its own"
                .formatted(prefix, topic));
      }
    }
    return prefix;
  }

  /**
   * Whether a request's {@code reply-to} names a topic in this address's reply namespace: under
   * {@link #replyPrefix()}, a legal topic name, and not a dead-letter topic.
   */
  public boolean replyAllowed(String replyTo) {
    return inReplyNamespace(replyPrefix, replyTo);
  }

  /**
   * {@link #replyAllowed} for a namespace given by its prefix, for engines' functions that carry
   * the prefix rather than the address.
   */
  public static boolean inReplyNamespace(String replyPrefix, String replyTo) {
    return replyTo != null
        && replyTo.length() > replyPrefix.length()
        && replyTo.length() <= 249
        && replyTo.startsWith(replyPrefix)
        && replyTo.matches("[a-zA-Z0-9._-]+")
        && !replyTo.endsWith("-dlq");
  }

  /** The dead-letter topic: {@code TOPIC-dlq}. */
  public String deadLetter() {
    return topic + "-dlq";
  }

  /** Client properties: the bootstrap servers and the pass-through settings. */
  public Properties properties() {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.putAll(clientProperties);
    return p;
  }

  /** Without the client properties, which may hold credentials. */
  @Override
  public String toString() {
    return describe();
  }

  public String describe() {
    return "kafka://%s %s".formatted(bootstrap, topic);
  }
}
