package dev.conveyor.redis;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.transport.Results;
import io.lettuce.core.KeyValue;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/** Reads results back from Redis: one by id, by waiting on a reply list, or as they come. */
public final class RedisResults implements Results {
  private final RedisConfig address;
  private final RedisConnections redis;

  public RedisResults(RedisConfig address) {
    this.address = address;
    this.redis = new RedisConnections(address);
  }

  /** The stored result of a request, or null when there is none (yet, or any more). */
  @Override
  public ClassifyResult get(String id) {
    if (address.seed003Results()) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "with result-format=seed003 a result's key holds seed 003's list, for its clients;"
              + " read the results stream instead (conveyor results --from without --id)");
    }
    byte[] json = redis.sync().get(RequestCodec.bytes(address.resultPrefix() + id));
    return json == null ? null : Json.read(RequestCodec.string(json), ClassifyResult.class);
  }

  /** Blocks on a reply list until a result arrives there or the timeout passes (then null). */
  public ClassifyResult awaitReply(String replyTo, Duration timeout) {
    KeyValue<byte[], byte[]> popped =
        redis.block(
            c -> c.blpop(Math.max(0.01, timeout.toMillis() / 1000.0), RequestCodec.bytes(replyTo)),
            timeout.plusSeconds(2));
    return popped == null || !popped.hasValue()
        ? null
        : Json.read(RequestCodec.string(popped.getValue()), ClassifyResult.class);
  }

  /**
   * Hands every result as JSON to {@code sink} while {@code running} holds: those in the results
   * stream first, then new ones as they come. In Pub/Sub mode, those published while subscribed.
   */
  @Override
  public void follow(BooleanSupplier running, Consumer<String> sink) {
    follow(false, running, sink);
  }

  /** Like {@link #follow(BooleanSupplier, Consumer)}, only new ones with {@code fromNow}. */
  public void follow(boolean fromNow, BooleanSupplier running, Consumer<String> sink) {
    if (address.mode() == RedisConfig.Mode.PUBSUB) {
      try (StatefulRedisPubSubConnection<byte[], byte[]> sub = redis.pubSub()) {
        sub.addListener(
            new RedisPubSubAdapter<>() {
              @Override
              public void message(byte[] channel, byte[] message) {
                sink.accept(RequestCodec.string(message));
              }
            });
        sub.sync().subscribe(RequestCodec.bytes(address.results()));
        while (running.getAsBoolean()) {
          try {
            Thread.sleep(100);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
          }
        }
      }
      return;
    }
    byte[] stream = RequestCodec.bytes(address.results());
    String last = fromNow ? "$" : "0-0";
    while (running.getAsBoolean()) {
      List<StreamMessage<byte[], byte[]>> batch = readFrom(stream, last);
      for (StreamMessage<byte[], byte[]> m : batch) {
        last = m.getId();
        resultOf(m, sink);
      }
    }
  }

  private List<StreamMessage<byte[], byte[]>> readFrom(byte[] stream, String last) {
    return redis.block(
        c ->
            c.xread(
                XReadArgs.Builder.block(500).count(500), XReadArgs.StreamOffset.from(stream, last)),
        Duration.ofMillis(2500));
  }

  /**
   * Hands every result in the results stream to {@code sink}, oldest first.
   *
   * @throws ConveyorException {@code INVALID_SETTING} in Pub/Sub mode, which keeps no results
   */
  @Override
  public void stored(Consumer<String> sink) {
    if (address.mode() == RedisConfig.Mode.PUBSUB) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "Pub/Sub keeps no results: follow them to see them as they are published");
    }
    byte[] stream = RequestCodec.bytes(address.results());
    String from = "-";
    while (true) {
      List<StreamMessage<byte[], byte[]>> page =
          redis
              .sync()
              .xrange(
                  stream,
                  io.lettuce.core.Range.create(from, "+"),
                  io.lettuce.core.Limit.from(1000));
      for (StreamMessage<byte[], byte[]> m : page) {
        if (!m.getId().equals(from)) {
          resultOf(m, sink);
        }
      }
      if (page.size() < 1000) {
        return;
      }
      from = page.get(page.size() - 1).getId();
    }
  }

  private static void resultOf(StreamMessage<byte[], byte[]> m, Consumer<String> sink) {
    for (var field : m.getBody().entrySet()) {
      if ("result".equals(RequestCodec.string(field.getKey()))) {
        sink.accept(RequestCodec.string(field.getValue()));
      }
    }
  }

  @Override
  public void close() {
    redis.close();
  }
}
