package dev.conveyor.redis;

import dev.conveyor.core.preprocess.PreprocessSettings;
import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.transport.TransportSettings;
import java.time.Duration;
import java.util.Map;

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
              "PREFIX",
              "each result is also stored at `PREFIX + id` (empty: at the id itself), as the JSON of `classify` or as result-format says",
              s -> true,
              "any text; empty for none")
          .withDefault("conveyor:result:", "conveyor:result:");
  static final Setting<String> REPLY_PREFIX =
      Setting.text(
              "reply-prefix",
              "PREFIX",
              "the namespace of reply lists: a request's reply_to must name a key that starts with it and is a list or absent, else the request gets a BAD_REQUEST result and no key is touched",
              s -> !s.isEmpty(),
              "a non-empty key prefix")
          .withDefault("conveyor:reply:", "conveyor:reply:");
  static final Setting<String> RESULT_FORMAT =
      Setting.choice(
          "result-format",
          "conveyor",
          "what is stored at a result's key: `conveyor` (the JSON of `classify`) or `seed003` (seed 003's JSON list of {label, probability}; an error as {error, message})",
          "conveyor",
          "seed003");
  static final Setting<String> TENSOR_LAYOUT = PreprocessSettings.URI_TENSOR_LAYOUT;
  static final Setting<String> PROFILE =
      Setting.choice(
          "profile",
          "none",
          "a set of the settings above for an existing client's contract: `seed003` is images=image_queue, result-prefix= (empty), result-format=seed003, tensor-layout=nhwc, mode=list; settings given beside it win",
          "none",
          "seed003");

  static final Setting<java.nio.file.Path> CA =
      Setting.path(
          "ca",
          "FILE",
          "with `rediss://`: a PEM file of the certificates to trust for the server's (default: the JVM's trust store)");
  static final Setting<java.nio.file.Path> PASSWORD_FILE =
      Setting.path(
          "password-file",
          "FILE",
          "read the password from this file's first line, for the URI's user when it names one (redis://conveyor@host); else the CONVEYOR_REDIS_PASSWORD environment variable, when set and the URI has no password; either keeps it out of `ps`");

  /** What each profile stands for. */
  static final Map<String, Map<String, String>> PROFILES =
      Map.of(
          "seed003",
          Map.of(
              "mode", "list",
              "images", "image_queue",
              "result-prefix", "",
              "result-format", "seed003",
              "tensor-layout", "nhwc"));

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
  static final Setting<Integer> MAX_DELIVERIES = TransportSettings.MAX_DELIVERIES;
  static final Setting<String> DELIVERY = TransportSettings.DELIVERY;
  static final Setting<Duration> HEARTBEAT =
      Setting.seconds(
          "heartbeat",
          10,
          "list mode: seconds after its last heartbeat that a worker counts as gone, and its requests go back to the queue");

  static final SettingGroup ALL =
      SettingGroup.of(
          "Redis URI settings",
          MODE,
          PROFILE,
          IMAGES,
          RESULTS,
          RESULT_PREFIX,
          REPLY_PREFIX,
          RESULT_FORMAT,
          TENSOR_LAYOUT,
          TTL,
          GROUP,
          DEAD_LETTER,
          MAX_LENGTH,
          CLAIM_IDLE,
          MAX_DELIVERIES,
          DELIVERY,
          HEARTBEAT,
          CA,
          PASSWORD_FILE);
}
