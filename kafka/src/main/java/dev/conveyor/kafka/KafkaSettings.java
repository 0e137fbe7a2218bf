package dev.conveyor.kafka;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;

/**
 * The settings a Kafka URI takes as query parameters: {@code kafka://host:9092?topic=…}. Settings
 * for the Kafka clients themselves go through with the prefix {@code kafka.}: {@code
 * kafka.security.protocol=SASL_SSL}.
 */
final class KafkaSettings {
  private KafkaSettings() {}

  static final Setting<String> TOPIC =
      Setting.text("topic", "conveyor-images", "the requests; created when missing");
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
  static final Setting<Integer> PARTITIONS =
      Setting.integer(
          "partitions",
          4,
          1,
          "partitions of the topics Conveyor creates when missing (replication: the number of brokers, at most 3)");
  static final Setting<Integer> MAX_DELIVERIES =
      Setting.integer(
          "max-deliveries",
          3,
          1,
          "attempts before a request goes to the dead-letter topic `TOPIC-dlq`");
  static final Setting<java.nio.file.Path> SASL_JAAS_FILE =
      Setting.path(
          "sasl-jaas-file",
          "FILE",
          "read the client's sasl.jaas.config from this file (that value, or a JAAS file with one section `KafkaClient { … };`); else, on a SASL connection without kafka.sasl.jaas.config, the CONVEYOR_KAFKA_SASL_JAAS_CONFIG environment variable, when set; either keeps the password out of `ps`");

  static final SettingGroup ALL =
      SettingGroup.of(
              "Kafka URI settings",
              TOPIC,
              RESULTS,
              REPLY_PREFIX,
              GROUP,
              PARTITIONS,
              MAX_DELIVERIES,
              SASL_JAAS_FILE)
          .passingThrough("kafka.");
}
