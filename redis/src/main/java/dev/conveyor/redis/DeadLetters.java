package dev.conveyor.redis;

import io.lettuce.core.XAddArgs;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The dead-letter stream: requests given up on (delivered too often, or not requests at all), each
 * with the error and the original message, so that nothing is dropped silently.
 */
final class DeadLetters {
  private DeadLetters() {}

  static void add(
      RedisCommands<byte[], byte[]> redis,
      RedisConfig address,
      String id,
      byte[] message,
      String error) {
    Map<byte[], byte[]> fields = new LinkedHashMap<>();
    fields.put(RequestCodec.bytes("id"), RequestCodec.bytes(id == null ? "" : id));
    fields.put(RequestCodec.bytes("error"), RequestCodec.bytes(error));
    fields.put(RequestCodec.bytes("time"), RequestCodec.bytes(Instant.now().toString()));
    fields.put(RequestCodec.bytes("message"), message);
    redis.xadd(
        RequestCodec.bytes(address.deadLetter()),
        XAddArgs.Builder.maxlen(address.maxLength()).approximateTrimming(),
        fields);
  }
}
