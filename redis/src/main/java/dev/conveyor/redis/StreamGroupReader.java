package dev.conveyor.redis;

import io.lettuce.core.Consumer;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XClaimArgs;
import io.lettuce.core.XPendingArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.models.stream.PendingMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;

/**
 * One consumer of a Redis stream's consumer group, as the worker ({@link StreamTransport}), the
 * Flink source and the Spark source read requests: the entries it was handed before and never
 * acknowledged (a consumer restarted under the same name reads them again first), new entries
 * ({@code XREADGROUP}), entries other consumers left pending for longer than {@code claim-idle}
 * ({@code XAUTOCLAIM}, or {@code XPENDING} then {@code XCLAIM} where some consumers' entries are to
 * be left alone), acknowledging ({@code XACK}) and dead-lettering. The group is created at the
 * start of the stream if missing. Its connections are {@link RedisConnections}': a refused one
 * fails at once with a one-line error, and so does a command while Redis is away.
 */
public final class StreamGroupReader implements AutoCloseable {
  private final RedisConfig address;
  private final RedisConnections redis;
  private final byte[] stream;
  private final Consumer<byte[]> consumer;

  /**
   * @param name the consumer's name in the group
   * @throws dev.conveyor.core.ConveyorException {@code UNAVAILABLE} when Redis refuses the
   *     connection
   */
  public StreamGroupReader(RedisConfig address, String name) {
    this(address, name, false);
  }

  /**
   * @param rideOutRestarts wait for Redis to come back, up to the URI's timeout per command, rather
   *     than fail at once while it is away: for an engine's source, whose task has no retry of its
   *     own (a worker retries with backoff)
   */
  public StreamGroupReader(RedisConfig address, String name, boolean rideOutRestarts) {
    this.address = address;
    this.stream = RequestCodec.bytes(address.images());
    this.consumer = Consumer.from(RequestCodec.bytes(address.group()), RequestCodec.bytes(name));
    this.redis = new RedisConnections(address, rideOutRestarts);
    try {
      Streams.ensureGroup(redis.sync(), address);
    } catch (RuntimeException e) {
      redis.close();
      throw e;
    }
  }

  public RedisConfig address() {
    return address;
  }

  /** The consumer's name in the group. */
  public String name() {
    return RequestCodec.string(consumer.getName());
  }

  /**
   * Up to {@code count} new entries, waiting up to {@code block} for the first ({@code null} or
   * zero: not waiting) on a connection of their own, so that other commands are not held.
   */
  public List<StreamEntry> readNew(int count, Duration block) {
    if (block == null || block.isZero()) {
      return entries(redis.sync().xreadgroup(consumer, XReadArgs.Builder.count(count), latest()));
    }
    long millis = Math.max(1, block.toMillis()); // BLOCK 0 is forever
    return entries(
        redis.block(
            c -> c.xreadgroup(consumer, XReadArgs.Builder.count(count).block(millis), latest()),
            Duration.ofMillis(2000 + millis)));
  }

  /** Like {@link #readNew}, without waiting for the answer. */
  public CompletableFuture<List<StreamEntry>> readNewAsync(int count, Duration block) {
    long millis = Math.max(1, block.toMillis());
    return redis
        .blockAsync(
            c -> c.xreadgroup(consumer, XReadArgs.Builder.count(count).block(millis), latest()),
            Duration.ofMillis(2000 + millis))
        .thenApply(this::entries);
  }

  /**
   * Up to {@code count} of the entries handed to this consumer before and not acknowledged, after
   * the entry {@code after} ({@code 0-0}: from the first).
   */
  public List<StreamEntry> readPending(String after, int count) {
    return entries(redis.sync().xreadgroup(consumer, XReadArgs.Builder.count(count), from(after)));
  }

  /** Like {@link #readPending}, without waiting for the answer. */
  public CompletableFuture<List<StreamEntry>> readPendingAsync(String after, int count) {
    return redis
        .connection()
        .async()
        .xreadgroup(consumer, XReadArgs.Builder.count(count), from(after))
        .toCompletableFuture()
        .thenApply(this::entries);
  }

  /**
   * Claims up to {@code count} entries pending on any consumer for longer than {@code claim-idle}
   * ({@code XAUTOCLAIM} from the start): those of a consumer that went silent, killed mid-batch.
   */
  public List<StreamEntry> claimIdle(int count) {
    return entries(
        redis
            .sync()
            .xautoclaim(
                stream,
                XAutoClaimArgs.Builder.xautoclaim(consumer, address.claimIdle(), "0-0")
                    .count(count))
            .getMessages());
  }

  /** A page of claimed entries, and where the next page starts ({@code 0-0}: after the last). */
  public record Claimed(List<StreamEntry> entries, String next) {}

  /**
   * Claims, of the next {@code count} entries pending for longer than {@code claim-idle} after the
   * entry {@code after} ({@code 0-0}: from the first), those held by consumers that {@code from}
   * accepts; with the same minimum idle time, so that of two consumers claiming at once only one
   * gets each entry.
   */
  public CompletableFuture<Claimed> claimIdleAsync(
      String after, int count, Predicate<String> from) {
    RedisAsyncCommands<byte[], byte[]> async = redis.connection().async();
    Duration idle = address.claimIdle();
    Range<String> range =
        Range.from(
            after.equals("0-0")
                ? Range.Boundary.<String>unbounded()
                : Range.Boundary.including("(" + after),
            Range.Boundary.unbounded());
    XPendingArgs<byte[]> pending =
        new XPendingArgs<byte[]>()
            .group(consumer.getGroup())
            .idle(idle)
            .range(range)
            .limit(Limit.from(count));
    return async
        .xpending(stream, pending)
        .toCompletableFuture()
        .thenCompose(
            page -> {
              String next = page.size() < count ? "0-0" : page.get(page.size() - 1).getId();
              String[] ids =
                  page.stream()
                      .filter(p -> from.test(p.getConsumer()))
                      .map(PendingMessage::getId)
                      .toArray(String[]::new);
              if (ids.length == 0) {
                return CompletableFuture.completedFuture(new Claimed(List.of(), next));
              }
              return async
                  .xclaim(stream, consumer, XClaimArgs.Builder.minIdleTime(idle), ids)
                  .toCompletableFuture()
                  .thenApply(claimed -> new Claimed(entries(claimed), next));
            });
  }

  /** How many times the group has handed out the entry; 1 for one no longer pending. */
  public int deliveries(String id) {
    List<PendingMessage> pending =
        redis.sync().xpending(stream, consumer.getGroup(), Range.create(id, id), Limit.from(1));
    return pending.isEmpty() ? 1 : (int) pending.get(0).getRedeliveryCount();
  }

  /** Acknowledges entries: how many of them were still pending. */
  public long ack(Collection<String> ids) {
    if (ids.isEmpty()) {
      return 0;
    }
    return redis.sync().xack(stream, consumer.getGroup(), ids.toArray(String[]::new));
  }

  /** Like {@link #ack}, without waiting for the answer. */
  public CompletableFuture<Long> ackAsync(Collection<String> ids) {
    if (ids.isEmpty()) {
      return CompletableFuture.completedFuture(0L);
    }
    return redis
        .connection()
        .async()
        .xack(stream, consumer.getGroup(), ids.toArray(String[]::new))
        .toCompletableFuture();
  }

  /**
   * Gives up on an entry: adds it to the dead-letter stream with the reason, under the request's
   * id, and acknowledges it.
   */
  public void deadLetter(String requestId, String entryId, String reason) {
    DeadLetters.add(redis.sync(), address, requestId, RequestCodec.bytes(entryId), reason);
    redis.sync().xack(stream, consumer.getGroup(), entryId);
  }

  /**
   * Entries by id ({@code XRANGE}), in order, a deleted one left out: for a reader handed ids
   * instead of reading through the group, such as a Spark executor. Waits up to a minute.
   *
   * @throws IllegalStateException when they cannot be read
   */
  public static List<StreamEntry> fetch(RedisConfig address, List<String> ids) {
    byte[] stream = RequestCodec.bytes(address.images());
    try (RedisConnections redis = new RedisConnections(address, true)) {
      RedisAsyncCommands<byte[], byte[]> async = redis.connection().async();
      List<RedisFuture<List<StreamMessage<byte[], byte[]>>>> fetched = new ArrayList<>();
      for (String id : ids) {
        fetched.add(async.xrange(stream, Range.create(id, id), Limit.from(1)));
      }
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
      List<StreamEntry> out = new ArrayList<>(ids.size());
      for (RedisFuture<List<StreamMessage<byte[], byte[]>>> f : fetched) {
        for (StreamMessage<byte[], byte[]> m :
            f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          out.add(new StreamEntry(address.images(), m.getId(), m.getBody()));
        }
      }
      return out;
    } catch (ExecutionException | TimeoutException | RuntimeException e) {
      throw new IllegalStateException("could not read entries of " + address.describe(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted reading entries of " + address.describe(), e);
    }
  }

  private XReadArgs.StreamOffset<byte[]> latest() {
    return XReadArgs.StreamOffset.lastConsumed(stream);
  }

  private XReadArgs.StreamOffset<byte[]> from(String after) {
    return XReadArgs.StreamOffset.from(stream, after);
  }

  private List<StreamEntry> entries(List<StreamMessage<byte[], byte[]>> messages) {
    if (messages == null) {
      return List.of();
    }
    List<StreamEntry> out = new ArrayList<>(messages.size());
    for (StreamMessage<byte[], byte[]> m : messages) {
      out.add(new StreamEntry(address.images(), m.getId(), m.getBody()));
    }
    return out;
  }

  @Override
  public void close() {
    redis.close();
  }
}
