package dev.conveyor.redis;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The Redis client of one transport, sink or producer: a connection for ordinary commands and, when
 * needed, a second one for blocking commands, which would otherwise hold the first. Lettuce
 * reconnects by itself with backoff when Redis restarts; commands issued while it is away are
 * refused at once, and every command, a replayed one too, is cancelled after the URI's timeout, so
 * that callers see failures and retry instead of waiting.
 */
final class RedisConnections implements AutoCloseable {
  /**
   * Attempts to reconnect after 50 ms, then doubling to at most 2 s: a client comes back within
   * about 2 s of its network, however long it was away (Lettuce's own backoff grows to 30 s).
   */
  private static final Delay RECONNECT =
      Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(2), 2, TimeUnit.MILLISECONDS);

  private final ClientResources resources;
  private final RedisClient client;
  private final StatefulRedisConnection<byte[], byte[]> main;
  private StatefulRedisConnection<byte[], byte[]> blocking;

  RedisConnections(RedisConfig address) {
    this(address, false);
  }

  /**
   * @param rideOutRestarts queue commands issued while Redis is away, each still cancelled after
   *     the URI's timeout, instead of refusing them at once: for callers with no retry of their own
   *     (an engine's source), which a short restart should not fail
   */
  RedisConnections(RedisConfig address, boolean rideOutRestarts) {
    resources = DefaultClientResources.builder().reconnectDelay(RECONNECT).build();
    client = RedisClient.create(resources, address.uri());
    client.setOptions(
        address
            .clientOptions()
            .autoReconnect(true)
            .disconnectedBehavior(
                rideOutRestarts
                    ? ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS
                    : ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .socketOptions(socketOptions(address.uri().getTimeout()))
            .timeoutOptions(TimeoutOptions.enabled(address.uri().getTimeout()))
            .build());
    try {
      main = client.connect(ByteArrayCodec.INSTANCE);
    } catch (RedisException e) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      resources.shutdown(0, 2, TimeUnit.SECONDS);
      throw RedisRefusals.of(address, e);
    }
  }

  /**
   * A connection that the network lost is dropped, and replaced, instead of waiting on TCP: data
   * unacknowledged for the command {@code timeout} (TCP_USER_TIMEOUT), or an idle connection whose
   * keepalive probes go unanswered, closes it, and Lettuce reconnects. Without this, a connection
   * across a partition of minutes waits on TCP's retransmission backoff, up to two minutes more
   * after the network is back. These options need the epoll transport (Linux, on the class path);
   * elsewhere only plain keepalive applies.
   */
  private static SocketOptions socketOptions(Duration timeout) {
    Duration lost = timeout.compareTo(Duration.ofSeconds(5)) < 0 ? Duration.ofSeconds(5) : timeout;
    return SocketOptions.builder()
        .connectTimeout(Duration.ofSeconds(5))
        .keepAlive(
            SocketOptions.KeepAliveOptions.builder()
                .enable()
                .idle(Duration.ofSeconds(10))
                .interval(Duration.ofSeconds(5))
                .count(3)
                .build())
        .tcpUserTimeout(
            SocketOptions.TcpUserTimeoutOptions.builder().enable().tcpUserTimeout(lost).build())
        .build();
  }

  RedisCommands<byte[], byte[]> sync() {
    return main.sync();
  }

  StatefulRedisConnection<byte[], byte[]> connection() {
    return main;
  }

  /** The connection of its own for blocking commands (BLMOVE, XREADGROUP BLOCK, BLPOP). */
  private synchronized StatefulRedisConnection<byte[], byte[]> blockingConnection() {
    if (blocking == null) {
      blocking = client.connect(ByteArrayCodec.INSTANCE);
    }
    return blocking;
  }

  /**
   * Runs a blocking command on the blocking connection and waits for it at most {@code max}: past
   * that (a command cut off by a restart can hang on a reconnected connection) it is cancelled and
   * the connection replaced. Any failure also replaces the connection.
   */
  <T> T block(Function<RedisAsyncCommands<byte[], byte[]>, RedisFuture<T>> command, Duration max) {
    RedisFuture<T> future;
    try {
      future = command.apply(blockingConnection().async());
    } catch (RuntimeException e) {
      resetBlocking();
      throw e;
    }
    try {
      return future.get(max.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      future.cancel(true);
      resetBlocking();
      throw new RedisCommandTimeoutException("no answer from Redis within " + max);
    } catch (ExecutionException e) {
      resetBlocking();
      throw e.getCause() instanceof RuntimeException r ? r : new RedisException(e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.cancel(true);
      throw new RedisException("interrupted", e);
    }
  }

  /**
   * Like {@link #block}, without waiting: the command's answer, failed after {@code max} with the
   * command cancelled. A failure replaces the connection, as with {@link #block}.
   */
  <T> CompletableFuture<T> blockAsync(
      Function<RedisAsyncCommands<byte[], byte[]>, RedisFuture<T>> command, Duration max) {
    RedisFuture<T> future;
    try {
      future = command.apply(blockingConnection().async());
    } catch (RuntimeException e) {
      resetBlocking();
      return CompletableFuture.failedFuture(e);
    }
    CompletableFuture<T> answer = new CompletableFuture<>();
    future.whenComplete(
        (value, e) -> {
          if (e == null) {
            answer.complete(value);
          } else {
            answer.completeExceptionally(e);
          }
        });
    return answer
        .orTimeout(max.toMillis(), TimeUnit.MILLISECONDS)
        .exceptionallyCompose(
            e -> {
              future.cancel(true);
              resetBlocking();
              return CompletableFuture.failedFuture(
                  e instanceof TimeoutException
                      ? new RedisCommandTimeoutException("no answer from Redis within " + max)
                      : e);
            });
  }

  /**
   * Drops the blocking connection after a failure, so the next blocking command gets a fresh one: a
   * blocking command cut off by a restart can leave a reconnected connection stuck.
   */
  synchronized void resetBlocking() {
    if (blocking != null) {
      blocking.closeAsync();
      blocking = null;
    }
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
    resources.shutdown(0, 2, TimeUnit.SECONDS);
  }
}
