package dev.conveyor.jdbc;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.transport.TransportSettings;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The settings a PostgreSQL URI takes as query parameters: {@code
 * postgresql://user@host:5432/db?table=…}.
 */
final class PostgresSettings {
  private PostgresSettings() {}

  private static final String NAME = "[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?";

  static final Setting<String> TABLE =
      name(
          "table",
          "conveyor_queue",
          "where requests come from: the work-queue table (created when missing); for produce --from-table, the table of keys");
  static final Setting<String> RESULTS =
      name(
          "results",
          "prediction_results",
          "the results table (created when missing): one row per request id, seed 004's columns and more");
  static final Setting<String> OFFSETS =
      name(
          "offsets",
          "conveyor_offsets",
          "with results-to this URI and a Kafka transport's delivery=exactly-once: the table (created when missing) that holds each consumer group's next offset per topic partition, written in the transaction that stores the results; workers resume from it");
  static final Setting<String> COLUMN =
      name("column", "image_key", "produce --from-table: the column of keys");
  static final Setting<String> KEY_PREFIX =
      Setting.text(
              "key-prefix",
              "PREFIX",
              "produce --from-table: prepended to each key to make the reference workers fetch, such as s3://bucket/; results --from and serve --dashboard-from: where a row's image is, for a results table with no source column",
              s -> true,
              "some text")
          .withDefault("", "none");
  static final Setting<Duration> LEASE =
      Setting.seconds(
          "lease",
          60,
          "seconds a worker holds the rows it took; a row whose lease ran out (its worker died) is taken again");
  static final Setting<Duration> SOCKET_TIMEOUT =
      Setting.seconds(
          "socket-timeout",
          15,
          "seconds a statement may go unanswered before its connection is given up and a new one made: a database cut off by the network is noticed then, and a new connection works as soon as the network does");
  static final Setting<Integer> MAX_DELIVERIES = TransportSettings.MAX_DELIVERIES;
  static final Setting<String> DELIVERY = TransportSettings.DELIVERY;
  static final Setting<Long> MAX_LENGTH =
      Setting.longInteger(
          "max-length",
          100_000,
          1,
          "the most rows waiting in the queue: producers wait beyond it, and a full queue answers BUSY");
  static final Setting<Integer> POOL =
      Setting.integer("pool", 2, 1, "most connections a worker's results sink keeps open");
  static final Setting<Path> PASSWORD_FILE =
      Setting.path(
          "password-file",
          "FILE",
          "read the password from this file's first line; else the PGPASSWORD environment variable, else ~/.pgpass, which the driver reads as psql does; each keeps it out of `ps`");

  static final SettingGroup ALL =
      SettingGroup.of(
          "PostgreSQL URI settings",
          TABLE,
          RESULTS,
          OFFSETS,
          COLUMN,
          KEY_PREFIX,
          LEASE,
          SOCKET_TIMEOUT,
          MAX_DELIVERIES,
          DELIVERY,
          MAX_LENGTH,
          POOL,
          PASSWORD_FILE);

  private static Setting<String> name(String name, String defaultValue, String doc) {
    return Setting.text(name, "NAME", doc, s -> s.matches(NAME), "a table or column name")
        .withDefault(defaultValue, defaultValue);
  }
}
