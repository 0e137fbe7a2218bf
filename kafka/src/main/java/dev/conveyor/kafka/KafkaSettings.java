package dev.conveyor.kafka;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.transport.TransportSettings;

/**
 * The settings a Kafka URI takes as query parameters: {@code kafka://host:9092?topic=…}. Settings
 * for the Kafka clients themselves go through with the prefix {@code kafka.}: {@code
 * kafka.security.protocol=SASL_SSL}.
 */
final class KafkaSettings {
  private KafkaSettings() {}

  static final Setting<String> TOPIC =
      Setting.text(
          "topic", "conveyor-images", "the requests; created when missing (see partitions)");
  static final Setting<String> REQUESTS =
      Setting.choice(
          "requests",
          "conveyor",
          "how the topic's records are read: `conveyor`, Conveyor's records (key = id, value = the image, or a reference with the content-ref header); `keys`, also a record with none of the headers content-ref, content-type and source is a bare object key, as seed 004's producer sends it: its value is the id and, after key-prefix, the reference the worker fetches. See docs/REQUESTS.md",
          "conveyor",
          "keys");
  static final Setting<String> KEY_PREFIX =
      Setting.text(
              "key-prefix",
              "PREFIX",
              "with requests=keys: prepended to each bare key to make the reference the worker fetches, such as s3://bucket/ or file:/srv/images/ (a key with a leading '/' or a '..' segment is refused); none: the value is the reference itself. The worker's --fetch-allow still decides what may be fetched",
              RequestFormat::validPrefix,
              "a reference prefix: s3://bucket/…, file:/folder/… or /folder/…")
          .withDefault("", "none");
  static final Setting<String> RESULTS =
      Setting.text("results", "conveyor-results", "the results, keyed by request id");
  static final Setting<String> REPLY_PREFIX =
      Setting.text(
              "reply-prefix",
              "PREFIX",
              "the namespace of reply topics: a request's reply-to header must name a topic that starts with it, else the request gets a BAD_REQUEST result and nothing is written there",
              s -> s.matches("[a-zA-Z0-9._-]+"),
              "a topic-name prefix of letters, digits, '.', '_' and '-'")
          .withDefault("conveyor.reply.", "conveyor.reply.");
  static final Setting<String> GROUP =
      Setting.text("group", "conveyor", "the workers' consumer group");
  static final Setting<Integer> PARTITIONS = TransportSettings.PARTITIONS;
  static final Setting<Integer> MAX_DELIVERIES = TransportSettings.MAX_DELIVERIES;
  static final Setting<String> DELIVERY = TransportSettings.DELIVERY;
  static final Setting<java.nio.file.Path> SASL_JAAS_FILE =
      Setting.path(
          "sasl-jaas-file",
          "FILE",
          "read the client's sasl.jaas.config from this file (that value, or a JAAS file with one section `KafkaClient { … };`); else, on a SASL connection without kafka.sasl.jaas.config, the CONVEYOR_KAFKA_SASL_JAAS_CONFIG environment variable, when set; either keeps the password out of `ps`");

  static final SettingGroup ALL =
      SettingGroup.of(
              "Kafka URI settings",
              TOPIC,
              REQUESTS,
              KEY_PREFIX,
              RESULTS,
              REPLY_PREFIX,
              GROUP,
              PARTITIONS,
              MAX_DELIVERIES,
              DELIVERY,
              SASL_JAAS_FILE)
          .passingThrough("kafka.");
}
