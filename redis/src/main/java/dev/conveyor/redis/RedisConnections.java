package dev.conveyor.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;

/**
 * The Redis client of one transport, sink or producer: a connection for ordinary commands and, when
 * needed, a second one for blocking commands, which would otherwise hold the first. Lettuce
 * reconnects by itself with backoff when Redis restarts; commands issued while it is away are
 * refused at once, and every command, a replayed one too, is cancelled after the URI's timeout, so
 * that callers see failures and retry instead of waiting.
 */
final class RedisConnections implements AutoCloseable {
  private final RedisClient client;
  private final StatefulRedisConnection<byte[], byte[]> main;
  private StatefulRedisConnection<byte[], byte[]> blocking;

  RedisConnections(RedisAddress address) {
    client = RedisClient.create(address.uri());
    client.setOptions(
        ClientOptions.builder()
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(5)).build())
            .timeoutOptions(TimeoutOptions.enabled(address.uri().getTimeout()))
            .build());
    main = client.connect(ByteArrayCodec.INSTANCE);
  }

  RedisCommands<byte[], byte[]> sync() {
    return main.sync();
  }

  StatefulRedisConnection<byte[], byte[]> connection() {
    return main;
  }

  /** A connection of its own for blocking commands (BLMOVE, XREADGROUP BLOCK, BLPOP). */
  synchronized RedisCommands<byte[], byte[]> blocking() {
    if (blocking == null) {
      blocking = client.connect(ByteArrayCodec.INSTANCE);
    }
    return blocking.sync();
  }

  StatefulRedisPubSubConnection<byte[], byte[]> pubSub() {
    return client.connectPubSub(ByteArrayCodec.INSTANCE);
  }

  @Override
  public void close() {
    if (blocking != null) {
      blocking.close();
    }
    main.close();
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }
}
