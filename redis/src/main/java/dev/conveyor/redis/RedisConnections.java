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
import io.lettuce.core.event.command.CommandFailedEvent;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
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
 *
 * <p>A command that timed out drops both connections, and the next command connects afresh. Redis
 * that restarts closes its connections, but a network that fails between here and Redis closes
 * nothing: the connection stays open with its commands unanswered, and after the network heals it
 * would wait on TCP's retransmission timer, which by then fires tens of seconds apart. A new
 * connection works as soon as the network does.
 */
final class RedisConnections implements AutoCloseable {
  private final RedisClient client;
  private final RedisConfig address;
  private StatefulRedisConnection<byte[], byte[]> main;
  private StatefulRedisConnection<byte[], byte[]> blocking;
  private boolean closed;

  RedisConnections(RedisConfig address) {
    this(address, false);
  }

  /**
   * @param rideOutRestarts queue commands issued while Redis is away, each still cancelled after
   *     the URI's timeout, instead of refusing them at once: for callers with no retry of their own
   *     (an engine's source), which a short restart should not fail
   */
  RedisConnections(RedisConfig address, boolean rideOutRestarts) {
    client = RedisClient.create(address.uri());
    client.setOptions(
        address
            .clientOptions()
            .autoReconnect(true)
            .disconnectedBehavior(
                rideOutRestarts
                    ? ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS
                    : ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .socketOptions(SocketOptions.builder().connectTimeout(Duration.ofSeconds(5)).build())
            .timeoutOptions(TimeoutOptions.enabled(address.uri().getTimeout()))
            .build());
    this.address = address;
    try {
      main = client.connect(ByteArrayCodec.INSTANCE);
    } catch (RedisException e) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      throw RedisRefusals.of(address, e);
    }
    client.addListener(
        new CommandListener() {
          @Override
          public void commandFailed(CommandFailedEvent event) {
            if (event.getCause() instanceof RedisCommandTimeoutException) {
              // off Lettuce's thread: dropping waits for a command thread that may be connecting
              CompletableFuture.runAsync(RedisConnections.this::dropAfterTimeout);
            }
          }
        });
  }

  RedisCommands<byte[], byte[]> sync() {
    return connection().sync();
  }

  /**
   * The connection for ordinary commands, connected again if a timeout dropped it.
   *
   * @throws dev.conveyor.core.ConveyorException {@code UNAVAILABLE} when Redis cannot be reached
   */
  synchronized StatefulRedisConnection<byte[], byte[]> connection() {
    if (main == null) {
      if (closed) {
        throw new RedisException("closed");
      }
      try {
        main = client.connect(ByteArrayCodec.INSTANCE);
      } catch (RedisException e) {
        throw RedisRefusals.of(address, e);
      }
    }
    return main;
  }

  /** Drops both connections after a command timed out; the next command connects again. */
  private synchronized void dropAfterTimeout() {
    if (main != null) {
      main.closeAsync();
      main = null;
    }
    resetBlocking();
  }

  /** The connection of its own for blocking commands (BLMOVE, XREADGROUP BLOCK, BLPOP). */
  private synchronized StatefulRedisConnection<byte[], byte[]> blockingConnection() {
    if (blocking == null) {
      if (closed) {
        throw new RedisException("closed");
      }
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
    synchronized (this) {
      closed = true;
      if (blocking != null) {
        blocking.close();
        blocking = null;
      }
      if (main != null) {
        main.close();
        main = null;
      }
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }
}
