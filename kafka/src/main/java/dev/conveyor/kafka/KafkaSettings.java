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

  static final SettingGroup ALL =
      SettingGroup.of("Kafka URI settings", TOPIC, RESULTS, GROUP, PARTITIONS, MAX_DELIVERIES)
          .passingThrough("kafka.");
}
