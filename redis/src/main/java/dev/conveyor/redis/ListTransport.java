package dev.conveyor.redis;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.Transport;
import io.lettuce.core.LMoveArgs;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Requests from a Redis list, reliably. Each worker moves what it takes into a processing list of
 * its own ({@code IMAGES:processing:WORKER}) in the same command, and removes it only once the
 * result is stored; {@link ListRecovery} brings back what a killed worker held. How often each
 * request was delivered is counted, and one delivered too often goes to the dead-letter stream.
 */
public final class ListTransport implements Transport {
  private static final Duration BLOCK_MARGIN = Duration.ofSeconds(2);

  private final RedisConfig address;
  private final RedisConnections redis;
  private final byte[] images;
  private final byte[] processing;
  private final byte[] attempts;
  private final Set<HeldMessage> inFlight = ConcurrentHashMap.newKeySet();
  private final ListRecovery recovery;
  private final RedisResultSink atomic;

  public ListTransport(RedisConfig address) {
    this.address = address;
    this.redis = new RedisConnections(address);
    String worker = WorkerNames.next();
    this.images = RequestCodec.bytes(address.images());
    this.processing = RequestCodec.bytes(ListRecovery.processingKey(address, worker));
    this.attempts = RequestCodec.bytes(address.images() + ":deliveries");
    this.recovery = new ListRecovery(address, redis, worker, inFlight);
    this.atomic = address.exactlyOnce() ? new RedisResultSink(address) : null;
  }

  /**
   * With {@code delivery=exactly-once}: each result is stored by a script that first removes its
   * request from this worker's processing list ({@code LREM}) and stores nothing when it is no
   * longer there (handed back to the queue while this worker was thought gone, to be answered by
   * whoever takes it).
   */
  @Override
  public Optional<ExactlyOnce> exactlyOnce() {
    if (atomic == null) {
      return Optional.empty();
    }
    return Optional.of(
        (deliveries, results) -> {
          try {
            return atomic.deliver(
                deliveries.stream().map(Delivery::request).toList(),
                results,
                new RedisResultSink.Acks(
                    "lrem",
                    processing,
                    attempts,
                    deliveries.stream().map(d -> RequestCodec.bytes(d.request().id())).toList(),
                    deliveries.stream().map(d -> (byte[]) d.receipt()).toList()));
          } finally {
            untrack(deliveries);
          }
        });
  }

  @Override
  public List<Delivery> poll(int max, Duration timeout) {
    List<byte[]> raw = new ArrayList<>(max);
    try {
      byte[] first = lmove();
      if (first == null && timeout.toMillis() >= 1) {
        first = blmove(timeout.toMillis() / 1000.0);
      }
      if (first == null) {
        return List.of();
      }
      add(raw, first);
      while (raw.size() < max) {
        byte[] next = lmove();
        if (next == null) {
          break;
        }
        add(raw, next);
      }
      return deliveries(raw);
    } catch (RuntimeException e) {
      // what was moved is in the processing list but will never be delivered: an orphan
      raw.forEach(m -> inFlight.remove(new HeldMessage(m)));
      throw e;
    }
  }

  private void add(List<byte[]> raw, byte[] message) {
    raw.add(message);
    inFlight.add(new HeldMessage(message));
  }

  private byte[] lmove() {
    return redis.sync().lmove(images, processing, LMoveArgs.Builder.leftRight());
  }

  /** BLMOVE from the queue to this worker's processing list, waiting up to {@code seconds}. */
  private byte[] blmove(double seconds) {
    return redis.block(
        c -> c.blmove(images, processing, LMoveArgs.Builder.leftRight(), seconds),
        BLOCK_MARGIN.plusMillis((long) (seconds * 1000)));
  }

  private List<Delivery> deliveries(List<byte[]> raw) {
    RedisCommands<byte[], byte[]> sync = redis.sync();
    List<Delivery> out = new ArrayList<>(raw.size());
    for (byte[] message : raw) {
      ImageRequest request;
      try {
        request = address.typed(RequestCodec.fromJson(message));
      } catch (IllegalArgumentException e) {
        DeadLetters.add(sync, address, null, message, "not a Conveyor request: " + e.getMessage());
        sync.lrem(processing, 1, message);
        inFlight.remove(new HeldMessage(message));
        continue;
      }
      int attempt = sync.hincrby(attempts, RequestCodec.bytes(request.id()), 1).intValue();
      if (attempt > address.maxDeliveries()) {
        giveUp(
            request, message, "delivered %d times without a stored result".formatted(attempt - 1));
        continue;
      }
      out.add(new Delivery(request, attempt, message));
    }
    return out;
  }

  private void giveUp(ImageRequest request, byte[] message, String reason) {
    RedisCommands<byte[], byte[]> sync = redis.sync();
    DeadLetters.add(sync, address, request.id(), message, reason);
    sync.lrem(processing, 1, message);
    sync.hdel(attempts, RequestCodec.bytes(request.id()));
    inFlight.remove(new HeldMessage(message));
  }

  @Override
  public void ack(List<Delivery> deliveries) {
    RedisCommands<byte[], byte[]> sync = redis.sync();
    try {
      for (Delivery d : deliveries) {
        sync.lrem(processing, 1, (byte[]) d.receipt());
        sync.hdel(attempts, RequestCodec.bytes(d.request().id()));
      }
    } finally {
      untrack(deliveries);
    }
  }

  /** No longer in flight: if still in the processing list, orphan recovery requeues them. */
  private void untrack(List<Delivery> deliveries) {
    for (Delivery d : deliveries) {
      inFlight.remove(new HeldMessage((byte[]) d.receipt()));
    }
  }

  @Override
  public void release(List<Delivery> deliveries, String reason) {
    RedisCommands<byte[], byte[]> sync = redis.sync();
    for (Delivery d : deliveries) {
      byte[] message = (byte[]) d.receipt();
      if (d.attempt() >= address.maxDeliveries()) {
        giveUp(
            d.request(), message, "gave up after %d deliveries: %s".formatted(d.attempt(), reason));
      } else {
        sync.eval(
            ListRecovery.REQUEUE,
            ScriptOutputType.INTEGER,
            new byte[][] {processing, images},
            message);
        inFlight.remove(new HeldMessage(message));
      }
    }
  }

  @Override
  public String describe() {
    return address.describe();
  }

  /** Stops the heartbeat; anything still taken goes back to the queue. */
  @Override
  public void close() {
    try {
      recovery.close();
    } finally {
      redis.close();
      if (atomic != null) {
        atomic.close();
      }
    }
  }
}
