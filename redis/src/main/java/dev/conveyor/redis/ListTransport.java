package dev.conveyor.redis;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.Transport;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.LMoveArgs;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.sync.RedisCommands;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests from a Redis list, reliably. Each worker moves what it takes into a processing list of
 * its own ({@code IMAGES:processing:WORKER}) in the same command, and removes it only once the
 * result is stored. A worker keeps a heartbeat key alive while it runs; any worker that finds a
 * processing list whose heartbeat has expired (its worker was killed) moves the requests back to
 * the queue. A request left in this worker's own processing list because acknowledging or releasing
 * it failed (Redis was away) goes back too, once seen there untracked twice in a row. How often
 * each request was delivered is counted, and one delivered too often goes to the dead-letter
 * stream.
 */
public final class ListTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(ListTransport.class);
  static final Duration HEARTBEAT_TTL = Duration.ofSeconds(10);
  private static final Duration HEARTBEAT_EVERY = Duration.ofSeconds(3);
  private static final Duration BLOCK_MARGIN = Duration.ofSeconds(2);
  private static final String REQUEUE =
      "redis.call('LREM', KEYS[1], 1, ARGV[1]); return redis.call('LPUSH', KEYS[2], ARGV[1])";
  private static final String RECOVER =
      "local n = 0; while redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT') do n = n + 1 end; return n";

  private final RedisAddress address;
  private final RedisConnections redis;
  private final String worker;
  private final byte[] images;
  private final byte[] processing;
  private final byte[] attempts;
  private final ScheduledExecutorService timer;
  private final Set<ByteBuffer> inFlight = ConcurrentHashMap.newKeySet();
  private Set<ByteBuffer> orphanSuspects = Set.of();

  public ListTransport(RedisAddress address) {
    this.address = address;
    this.redis = new RedisConnections(address);
    this.worker = WorkerNames.next();
    this.images = RequestCodec.bytes(address.images());
    this.processing = RequestCodec.bytes(processingKey(address, worker));
    this.attempts = RequestCodec.bytes(address.images() + ":deliveries");
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "conveyor-redis-heartbeat");
              t.setDaemon(true);
              return t;
            });
    heartbeat();
    timer.scheduleWithFixedDelay(
        this::heartbeatQuietly,
        HEARTBEAT_EVERY.toMillis(),
        HEARTBEAT_EVERY.toMillis(),
        TimeUnit.MILLISECONDS);
    timer.scheduleWithFixedDelay(
        this::recoverQuietly, 0, HEARTBEAT_TTL.toMillis() / 2, TimeUnit.MILLISECONDS);
  }

  static String processingKey(RedisAddress address, String worker) {
    return address.images() + ":processing:" + worker;
  }

  static String heartbeatKey(RedisAddress address, String worker) {
    return address.images() + ":worker:" + worker;
  }

  /** This worker's name, as its processing list and heartbeat carry it. */
  public String worker() {
    return worker;
  }

  private void heartbeat() {
    redis
        .sync()
        .set(
            RequestCodec.bytes(heartbeatKey(address, worker)),
            new byte[] {1},
            SetArgs.Builder.px(HEARTBEAT_TTL.toMillis()));
  }

  private void heartbeatQuietly() {
    try {
      heartbeat();
    } catch (RuntimeException e) {
      LOG.warn("heartbeat to {} failed: {}", address.describe(), e.toString());
    }
  }

  /** Moves the requests of workers whose heartbeat has expired back to the queue. */
  public int recover() {
    RedisCommands<byte[], byte[]> sync = redis.sync();
    String prefix = address.images() + ":processing:";
    int moved = 0;
    ScanArgs match = ScanArgs.Builder.matches(prefix + "*").limit(200);
    KeyScanCursor<byte[]> cursor = sync.scan(match);
    while (true) {
      for (byte[] key : cursor.getKeys()) {
        String owner = RequestCodec.string(key).substring(prefix.length());
        if (!owner.equals(worker)
            && sync.exists(RequestCodec.bytes(heartbeatKey(address, owner))) == 0) {
          Long n = sync.eval(RECOVER, ScriptOutputType.INTEGER, new byte[][] {key, images});
          if (n != null && n > 0) {
            LOG.warn(
                "moved {} requests of the silent worker {} back to {}", n, owner, address.images());
            moved += n.intValue();
          }
        }
      }
      if (cursor.isFinished()) {
        return moved + requeueOrphans();
      }
      cursor = sync.scan(cursor, match);
    }
  }

  /**
   * Requeues what sits in this worker's processing list without being in flight, once seen so on
   * two passes in a row: requests whose acknowledgement or release failed.
   */
  private int requeueOrphans() {
    RedisCommands<byte[], byte[]> sync = redis.sync();
    Set<ByteBuffer> seen = new HashSet<>();
    int requeued = 0;
    for (byte[] message : sync.lrange(processing, 0, -1)) {
      ByteBuffer key = ByteBuffer.wrap(message);
      if (inFlight.contains(key)) {
        continue;
      }
      if (orphanSuspects.contains(key)) {
        sync.eval(REQUEUE, ScriptOutputType.INTEGER, new byte[][] {processing, images}, message);
        requeued++;
      } else {
        seen.add(key);
      }
    }
    orphanSuspects = seen;
    if (requeued > 0) {
      LOG.warn("requeued {} requests whose acknowledgement had failed", requeued);
    }
    return requeued;
  }

  private void recoverQuietly() {
    try {
      recover();
    } catch (RuntimeException e) {
      LOG.warn("recovering requests from {} failed: {}", address.describe(), e.toString());
    }
  }

  @Override
  public List<Delivery> take(int max, Duration linger) {
    byte[] first = move(0.2);
    if (first == null) {
      return List.of();
    }
    List<byte[]> raw = new ArrayList<>(max);
    raw.add(first);
    inFlight.add(ByteBuffer.wrap(first));
    try {
      long deadline = System.nanoTime() + linger.toNanos();
      while (raw.size() < max) {
        byte[] next = redis.sync().lmove(images, processing, LMoveArgs.Builder.leftRight());
        if (next == null) {
          double remaining = (deadline - System.nanoTime()) / 1e9;
          if (remaining < 0.001) {
            break;
          }
          next = move(remaining);
          if (next == null) {
            break;
          }
        }
        raw.add(next);
        inFlight.add(ByteBuffer.wrap(next));
      }
      return deliveries(raw);
    } catch (RuntimeException e) {
      // what was moved is in the processing list but will never be delivered: an orphan
      raw.forEach(m -> inFlight.remove(ByteBuffer.wrap(m)));
      throw e;
    }
  }

  /** BLMOVE from the queue to this worker's processing list, waiting up to {@code seconds}. */
  private byte[] move(double seconds) {
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
        request = RequestCodec.fromJson(message);
      } catch (IllegalArgumentException e) {
        DeadLetters.add(sync, address, null, message, "not a Conveyor request: " + e.getMessage());
        sync.lrem(processing, 1, message);
        inFlight.remove(ByteBuffer.wrap(message));
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
    inFlight.remove(ByteBuffer.wrap(message));
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
      inFlight.remove(ByteBuffer.wrap((byte[]) d.receipt()));
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
        sync.eval(REQUEUE, ScriptOutputType.INTEGER, new byte[][] {processing, images}, message);
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
    timer.shutdownNow();
    try {
      redis.sync().eval(RECOVER, ScriptOutputType.INTEGER, new byte[][] {processing, images});
      redis.sync().del(RequestCodec.bytes(heartbeatKey(address, worker)));
    } catch (RuntimeException e) {
      LOG.warn("closing {}: {}", address.describe(), e.toString());
    } finally {
      redis.close();
    }
  }
}
