package dev.conveyor.redis;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import java.time.Duration;

/** The settings a Redis URI takes as query parameters: {@code redis://host:6379?mode=stream&…}. */
final class RedisSettings {
  private RedisSettings() {}

  static final Setting<String> MODE =
      Setting.choice("mode", "list", "`list`, `pubsub` or `stream`", "list", "pubsub", "stream");
  static final Setting<String> IMAGES =
      Setting.text("images", "conveyor:images", "the list, channel or stream of requests");
  static final Setting<String> RESULTS =
      Setting.text(
          "results",
          "conveyor:results",
          "the results stream (list and stream modes) or channel (Pub/Sub)");
  static final Setting<String> RESULT_PREFIX =
      Setting.text(
          "result-prefix",
          "conveyor:result:",
          "each result is also stored at `PREFIX + id`, as the JSON of `classify`");
  static final Setting<Duration> TTL =
      Setting.seconds("ttl", 3600, "seconds result keys and reply lists are kept");
  static final Setting<String> GROUP =
      Setting.text("group", "conveyor", "the stream's consumer group");
  static final Setting<String> DEAD_LETTER =
      Setting.text(
          "dead-letter",
          "conveyor:dead",
          "the stream of requests given up on, each with its error");
  static final Setting<Long> MAX_LENGTH =
      Setting.longInteger(
          "max-length",
          10_000,
          1,
          "the most requests waiting: producers wait beyond it; streams are trimmed at it");
  static final Setting<Duration> CLAIM_IDLE =
      Setting.seconds(
          "claim-idle",
          30,
          "seconds before a stream entry pending on a silent worker is claimed by another");
  static final Setting<Integer> MAX_DELIVERIES =
      Setting.integer("max-deliveries", 3, 1, "deliveries before a request is dead-lettered");
  static final Setting<Duration> HEARTBEAT =
      Setting.seconds(
          "heartbeat",
          10,
          "list mode: seconds after its last heartbeat that a worker counts as gone, and its requests go back to the queue");

  static final SettingGroup ALL =
      SettingGroup.of(
          "Redis URI settings",
          MODE,
          IMAGES,
          RESULTS,
          RESULT_PREFIX,
          TTL,
          GROUP,
          DEAD_LETTER,
          MAX_LENGTH,
          CLAIM_IDLE,
          MAX_DELIVERIES,
          HEARTBEAT);
}
