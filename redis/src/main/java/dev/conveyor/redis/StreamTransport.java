package dev.conveyor.redis;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.Transport;
import io.lettuce.core.Consumer;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XAutoClaimArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.models.stream.ClaimedMessages;
import io.lettuce.core.models.stream.PendingMessage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Requests from a Redis stream through a consumer group: {@code XREADGROUP COUNT batch BLOCK},
 * {@code XACK} only once the result is stored. Entries left pending by a consumer that went silent
 * (killed mid-batch) are claimed with {@code XAUTOCLAIM} once idle for {@code claim-idle}; an entry
 * delivered more than {@code max-deliveries} times goes to the dead-letter stream with its error.
 */
public final class StreamTransport implements Transport {
  private final RedisAddress address;
  private final RedisConnections redis;
  private final byte[] stream;
  private final Consumer<byte[]> consumer;
  private long nextClaim;

  public StreamTransport(RedisAddress address) {
    this.address = address;
    this.redis = new RedisConnections(address);
    this.stream = RequestCodec.bytes(address.images());
    String name = WorkerNames.next();
    this.consumer = Consumer.from(RequestCodec.bytes(address.group()), RequestCodec.bytes(name));
    Streams.ensureGroup(redis.sync(), address);
  }

  @Override
  public List<Delivery> poll(int max, Duration timeout) {
    long now = System.nanoTime();
    if (now >= nextClaim) {
      nextClaim = now + address.claimIdle().toNanos() / 2;
      ClaimedMessages<byte[], byte[]> claimed =
          redis
              .sync()
              .xautoclaim(
                  stream,
                  XAutoClaimArgs.Builder.xautoclaim(consumer, address.claimIdle(), "0-0")
                      .count(max));
      if (!claimed.getMessages().isEmpty()) {
        return deliveries(claimed.getMessages(), true);
      }
    }
    return deliveries(readGroup(max, Math.max(1, timeout.toMillis())), false);
  }

  /** XREADGROUP of new entries, blocking up to {@code blockMillis} (never 0, which is forever). */
  private List<StreamMessage<byte[], byte[]>> readGroup(int count, long blockMillis) {
    return redis.block(
        c ->
            c.xreadgroup(
                consumer,
                XReadArgs.Builder.count(count).block(blockMillis),
                XReadArgs.StreamOffset.lastConsumed(stream)),
        Duration.ofMillis(2000 + blockMillis));
  }

  private List<Delivery> deliveries(List<StreamMessage<byte[], byte[]>> messages, boolean claimed) {
    RedisCommands<byte[], byte[]> sync = redis.sync();
    List<Delivery> out = new ArrayList<>(messages.size());
    for (StreamMessage<byte[], byte[]> m : messages) {
      if (m.getBody() == null) {
        continue; // trimmed away while pending: nothing left to deliver
      }
      ImageRequest request;
      try {
        request = address.typed(RequestCodec.fromFields(m.getBody()));
      } catch (IllegalArgumentException e) {
        DeadLetters.add(
            sync,
            address,
            m.getId(),
            RequestCodec.bytes(m.getId()),
            "not a Conveyor request: " + e.getMessage());
        sync.xack(stream, consumer.getGroup(), m.getId());
        continue;
      }
      int attempt = claimed ? deliveryCount(m.getId()) : 1;
      if (attempt > address.maxDeliveries()) {
        giveUp(
            request,
            m.getId(),
            "delivered %d times without a stored result".formatted(attempt - 1));
        continue;
      }
      out.add(new Delivery(request, attempt, m.getId()));
    }
    return out;
  }

  private int deliveryCount(String id) {
    List<PendingMessage> pending =
        redis.sync().xpending(stream, consumer.getGroup(), Range.create(id, id), Limit.from(1));
    return pending.isEmpty() ? 1 : (int) pending.get(0).getRedeliveryCount();
  }

  private void giveUp(ImageRequest request, String entry, String reason) {
    RedisCommands<byte[], byte[]> sync = redis.sync();
    DeadLetters.add(sync, address, request.id(), RequestCodec.bytes(entry), reason);
    sync.xack(stream, consumer.getGroup(), entry);
  }

  @Override
  public void ack(List<Delivery> deliveries) {
    if (deliveries.isEmpty()) {
      return;
    }
    String[] ids = deliveries.stream().map(d -> (String) d.receipt()).toArray(String[]::new);
    redis.sync().xack(stream, consumer.getGroup(), ids);
  }

  /**
   * Leaves the entries pending to be claimed again after {@code claim-idle}, or dead-letters them.
   */
  @Override
  public void release(List<Delivery> deliveries, String reason) {
    for (Delivery d : deliveries) {
      if (d.attempt() >= address.maxDeliveries()) {
        giveUp(
            d.request(),
            (String) d.receipt(),
            "gave up after %d deliveries: %s".formatted(d.attempt(), reason));
      }
    }
  }

  @Override
  public String describe() {
    return address.describe();
  }

  @Override
  public void close() {
    redis.close();
  }
}
