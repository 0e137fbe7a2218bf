package dev.conveyor.redis;

import dev.conveyor.testing.RedisServer;
import io.lettuce.core.Consumer;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A test's own view of a Redis server: the commands tests use to set up and check what Conveyor
 * did, answering in plain Java types (strings decoded as UTF-8), so that tests outside the {@code
 * redis} module need no Redis client of their own.
 */
public final class TestRedisClient implements AutoCloseable {
  private final RedisClient client;
  private final StatefulRedisConnection<byte[], byte[]> connection;
  private final RedisCommands<byte[], byte[]> r;

  /** A pending entry of a consumer group, as {@code XPENDING … - + count} lists it. */
  public record Pending(String id, String consumer, long idleMillis, long deliveries) {}

  /** An entry of a stream: its id and its fields. */
  public record Entry(String id, Map<String, String> fields) {}

  /**
   * @param uri a Redis URI, such as {@link RedisServer#uri} gives
   */
  public TestRedisClient(String uri) {
    client = RedisClient.create(uri);
    connection = client.connect(ByteArrayCodec.INSTANCE);
    r = connection.sync();
  }

  /** The string at a key, or {@code null}. */
  public String get(String key) {
    return string(r.get(bytes(key)));
  }

  public boolean exists(String key) {
    return r.exists(bytes(key)) == 1;
  }

  /** {@code TTL}: seconds left, -1 for a key without expiry, -2 for none. */
  public long ttl(String key) {
    return r.ttl(bytes(key));
  }

  /** {@code TYPE}: {@code string}, {@code list}, {@code hash}, {@code stream}, or {@code none}. */
  public String type(String key) {
    return r.type(bytes(key));
  }

  public void hset(String key, String field, String value) {
    r.hset(bytes(key), bytes(field), bytes(value));
  }

  public Map<String, String> hgetall(String key) {
    return strings(r.hgetall(bytes(key)));
  }

  public long llen(String key) {
    return r.llen(bytes(key));
  }

  public long xlen(String stream) {
    return r.xlen(bytes(stream));
  }

  /** Adds an entry to a stream; its id. */
  public String xadd(String stream, Map<String, byte[]> fields) {
    return r.xadd(bytes(stream), binary(fields));
  }

  /** Adds entries to a stream in one transaction ({@code MULTI}/{@code EXEC}): all at once. */
  public void xaddAll(String stream, List<Map<String, byte[]>> entries) {
    r.multi();
    for (Map<String, byte[]> fields : entries) {
      r.xadd(bytes(stream), binary(fields));
    }
    r.exec();
  }

  /** Every entry of a stream, in order. */
  public List<Entry> xrange(String stream) {
    List<Entry> out = new ArrayList<>();
    for (StreamMessage<byte[], byte[]> m : r.xrange(bytes(stream), Range.create("-", "+"))) {
      out.add(new Entry(m.getId(), strings(m.getBody())));
    }
    return out;
  }

  /**
   * Reads up to {@code count} new entries as a consumer of a group ({@code XREADGROUP … >}): a
   * consumer other than Conveyor's taking entries and leaving them pending. Their ids.
   */
  public List<String> xreadgroup(String stream, String group, String consumer, int count) {
    return r
        .xreadgroup(
            Consumer.from(bytes(group), bytes(consumer)),
            XReadArgs.Builder.count(count),
            XReadArgs.StreamOffset.lastConsumed(bytes(stream)))
        .stream()
        .map(StreamMessage::getId)
        .toList();
  }

  /** How many entries the group has read and not acknowledged. */
  public long pendingCount(String stream, String group) {
    return r.xpending(bytes(stream), bytes(group)).getCount();
  }

  /** Up to {@code count} of the group's pending entries, in order. */
  public List<Pending> pending(String stream, String group, int count) {
    return r
        .xpending(bytes(stream), bytes(group), Range.create("-", "+"), Limit.from(count))
        .stream()
        .map(
            p ->
                new Pending(
                    p.getId(), p.getConsumer(), p.getMsSinceLastDelivery(), p.getRedeliveryCount()))
        .toList();
  }

  /** The names of the stream's consumer groups; none for a stream that does not exist. */
  public List<String> groups(String stream) {
    if (r.exists(bytes(stream)) == 0) {
      return List.of();
    }
    List<String> names = new ArrayList<>();
    for (Object g : r.xinfoGroups(bytes(stream))) {
      names.add(String.valueOf(info((List<?>) g).get("name")));
    }
    return names;
  }

  /**
   * A consumer group as {@code XINFO GROUPS} describes it ({@code name}, {@code pending}, {@code
   * lag}, {@code entries-read}, …): numbers as {@link Long}, text as {@link String}; empty when the
   * stream has no such group.
   */
  public Map<String, Object> group(String stream, String group) {
    if (r.exists(bytes(stream)) == 0) {
      return Map.of();
    }
    for (Object g : r.xinfoGroups(bytes(stream))) {
      Map<String, Object> info = info((List<?>) g);
      if (group.equals(info.get("name"))) {
        return info;
      }
    }
    return Map.of();
  }

  private static Map<String, Object> info(List<?> fields) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < fields.size(); i += 2) {
      Object v = fields.get(i + 1);
      m.put(text(fields.get(i)), v instanceof Number n ? (Object) n.longValue() : text(v));
    }
    return m;
  }

  private static String text(Object o) {
    return o instanceof byte[] b ? string(b) : String.valueOf(o);
  }

  private static Map<byte[], byte[]> binary(Map<String, byte[]> fields) {
    Map<byte[], byte[]> body = new LinkedHashMap<>();
    fields.forEach((k, v) -> body.put(bytes(k), v));
    return body;
  }

  private static Map<String, String> strings(Map<byte[], byte[]> raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw != null) {
      raw.forEach((k, v) -> out.put(string(k), string(v)));
    }
    return out;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String string(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    connection.close();
    client.shutdown();
  }
}
