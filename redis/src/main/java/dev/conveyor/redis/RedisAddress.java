package dev.conveyor.redis;

import io.lettuce.core.RedisURI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Where and how Conveyor uses Redis, from a URI: {@code
 * redis://[user:password@]host:port[/db]?mode=list|pubsub|stream&...} ({@code rediss://} for TLS).
 * Query settings, all optional:
 *
 * <ul>
 *   <li>{@code mode}: {@code list} (default), {@code pubsub} or {@code stream}
 *   <li>{@code images}: the list, channel or stream of requests (default {@code conveyor:images})
 *   <li>{@code results}: the results stream or channel (default {@code conveyor:results})
 *   <li>{@code result-prefix}: results are also stored at PREFIX + id (default {@code
 *       conveyor:result:})
 *   <li>{@code ttl}: seconds results are kept (default 3600)
 *   <li>{@code group}: the stream's consumer group (default {@code conveyor})
 *   <li>{@code dead-letter}: the stream of requests given up on (default {@code conveyor:dead})
 *   <li>{@code max-length}: the most requests waiting; producers wait beyond it (default 10000)
 *   <li>{@code claim-idle}: seconds before a stream entry pending on a silent consumer is claimed
 *       by another (default 30)
 *   <li>{@code max-deliveries}: deliveries before a request is dead-lettered (default 3)
 * </ul>
 */
public record RedisAddress(
    RedisURI uri,
    Mode mode,
    String images,
    String results,
    String resultPrefix,
    Duration resultTtl,
    String group,
    String deadLetter,
    long maxLength,
    Duration claimIdle,
    int maxDeliveries) {

  /** How requests travel. */
  public enum Mode {
    /** A Redis list: reliable, each request to one worker. */
    LIST,
    /** Pub/Sub: every subscribed worker gets every request; at most once. */
    PUBSUB,
    /** A stream with a consumer group: reliable, each request to one worker, replayable. */
    STREAM
  }

  /** Whether a URI names Redis. */
  public static boolean handles(String uri) {
    return uri.startsWith("redis://") || uri.startsWith("rediss://");
  }

  public static RedisAddress parse(String text) {
    if (!handles(text)) {
      throw new IllegalArgumentException(
          "not a Redis URI: '%s'; expected redis://host:port[/db]?mode=list|pubsub|stream"
              .formatted(text));
    }
    int q = text.indexOf('?');
    Map<String, String> query = query(q < 0 ? "" : text.substring(q + 1));
    RedisURI uri = RedisURI.create(q < 0 ? text : text.substring(0, q));
    uri.setTimeout(Duration.ofSeconds(10));
    RedisAddress address =
        new RedisAddress(
            uri,
            mode(query.remove("mode")),
            query.getOrDefault("images", "conveyor:images"),
            query.getOrDefault("results", "conveyor:results"),
            query.getOrDefault("result-prefix", "conveyor:result:"),
            Duration.ofSeconds(positive(query, "ttl", 3600)),
            query.getOrDefault("group", "conveyor"),
            query.getOrDefault("dead-letter", "conveyor:dead"),
            positive(query, "max-length", 10_000),
            Duration.ofSeconds(positive(query, "claim-idle", 30)),
            (int) positive(query, "max-deliveries", 3));
    for (String key :
        java.util.List.of(
            "images",
            "results",
            "result-prefix",
            "ttl",
            "group",
            "dead-letter",
            "max-length",
            "claim-idle",
            "max-deliveries")) {
      query.remove(key);
    }
    if (!query.isEmpty()) {
      throw new IllegalArgumentException(
          "unknown Redis URI settings %s; known: mode, images, results, result-prefix, ttl, group, dead-letter, max-length, claim-idle, max-deliveries"
              .formatted(query.keySet()));
    }
    return address;
  }

  private static Mode mode(String value) {
    if (value == null) {
      return Mode.LIST;
    }
    try {
      return Mode.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "mode must be list, pubsub or stream, not '" + value + "'");
    }
  }

  private static long positive(Map<String, String> query, String key, long fallback) {
    String v = query.get(key);
    if (v == null) {
      return fallback;
    }
    try {
      long n = Long.parseLong(v);
      if (n > 0) {
        return n;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(key + " must be a positive whole number, not '" + v + "'");
  }

  private static Map<String, String> query(String text) {
    Map<String, String> map = new LinkedHashMap<>();
    if (text.isEmpty()) {
      return map;
    }
    for (String pair : text.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      String value =
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      map.put(key, value);
    }
    return map;
  }

  /** The URI without its password, for logs. */
  public String describe() {
    return "redis://%s:%d/%d %s %s"
        .formatted(
            uri.getHost(),
            uri.getPort(),
            uri.getDatabase(),
            mode.name().toLowerCase(Locale.ROOT),
            images);
  }
}
