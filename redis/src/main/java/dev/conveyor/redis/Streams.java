package dev.conveyor.redis;

import io.lettuce.core.RedisBusyException;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.XGroupCreateArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.List;

/** Consumer-group housekeeping shared by stream producers and workers. */
public final class Streams {
  private Streams() {}

  /**
   * Creates the consumer group at the start of the stream (and the stream) if missing, so that no
   * request produced before the first worker started is skipped.
   */
  public static void ensureGroup(RedisCommands<byte[], byte[]> redis, RedisConfig address) {
    try {
      redis.xgroupCreate(
          XReadArgs.StreamOffset.from(RequestCodec.bytes(address.images()), "0"),
          RequestCodec.bytes(address.group()),
          XGroupCreateArgs.Builder.mkstream());
    } catch (RedisBusyException e) {
      // the group exists
    } catch (RedisCommandExecutionException e) {
      if (e.getMessage() == null || !e.getMessage().contains("BUSYGROUP")) {
        throw e;
      }
    }
  }

  /**
   * Entries not yet delivered to the group plus those delivered and not acknowledged: what trimming
   * the stream could lose. Uses the group's {@code lag} (Redis 7).
   */
  static long backlog(RedisCommands<byte[], byte[]> redis, RedisConfig address) {
    List<Object> groups = redis.xinfoGroups(RequestCodec.bytes(address.images()));
    for (Object g : groups) {
      if (!(g instanceof List<?> fields)) {
        continue;
      }
      String name = null;
      long lag = -1;
      long pending = 0;
      for (int i = 0; i + 1 < fields.size(); i += 2) {
        String key = text(fields.get(i));
        Object value = fields.get(i + 1);
        switch (key) {
          case "name" -> name = text(value);
          case "lag" -> lag = value instanceof Long l ? l : -1;
          case "pending" -> pending = value instanceof Long l ? l : 0;
          default -> {}
        }
      }
      if (address.group().equals(name)) {
        return (lag < 0 ? redis.xlen(RequestCodec.bytes(address.images())) : lag) + pending;
      }
    }
    return redis.xlen(RequestCodec.bytes(address.images()));
  }

  private static String text(Object o) {
    return o instanceof byte[] b ? RequestCodec.string(b) : String.valueOf(o);
  }
}
