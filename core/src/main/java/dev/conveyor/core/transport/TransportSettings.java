package dev.conveyor.core.transport;

import dev.conveyor.core.settings.Setting;

/**
 * Where requests travel, and the settings that every transport shares, declared once: the
 * in-process queue and each broker's URI take them by these names.
 */
public final class TransportSettings {
  private TransportSettings() {}

  public static final Setting<String> TRANSPORT =
      Setting.text(
              "transport",
              "URI",
              "where requests travel: embedded (a queue in this process, its workers beside it), redis://host:port[/db]?mode=list|stream|pubsub, kafka://host:port?topic=…, postgresql://host/db?table=…; the same URI for serve, worker, produce and bench",
              uri -> uri.equals("embedded") || uri.matches("[a-zA-Z][a-zA-Z0-9+.-]*://.+"),
              "embedded or a broker URI")
          .withDefault("embedded", "embedded");

  public static final Setting<Integer> QUEUE =
      Setting.integer(
          "queue",
          1024,
          1,
          "most requests waiting in memory; beyond it callers wait or are told busy");

  public static final Setting<Integer> MAX_DELIVERIES =
      Setting.integer(
          "max-deliveries",
          3,
          1,
          "deliveries of a request whose batch keeps failing before it is given up on: answered with its error in process, dead-lettered by a broker (Redis: the dead-letter stream; Kafka: the topic TOPIC-dlq; PostgreSQL: its row's state turns to dead)");

  /** The delivery a broker's workers give each request, per broker address. */
  public static final Setting<String> DELIVERY =
      Setting.choice(
          "delivery",
          "at-least-once",
          "how many results a request gets when workers die: `at-least-once` (one killed between storing a result and acknowledging its request answers it again) or `exactly-once` (the result stored and the request acknowledged in one atomic step of the broker: Redis list and stream, the PostgreSQL queue, Kafka, and Kafka with --results-to postgresql://…; see the delivery table in the docs). On a store's address (--results-to, a Flink or Spark sink): Kafka writes in transactions, Redis and PostgreSQL store idempotently by request id",
          "at-least-once",
          "exactly-once");

  public static final Setting<Integer> PARTITIONS =
      Setting.integer(
          "partitions",
          4,
          1,
          "Kafka: the partitions the topics have. Given: topics missing are created with it, and an existing topic with another count is used as it is and reported at start with both counts. Not given: existing topics are used as they are, silently, and missing ones created with 4. Replication: the number of brokers, at most 3");
}
