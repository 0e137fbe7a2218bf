package dev.conveyor.redis;

import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.sync.RedisCommands;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a list worker's heartbeat alive, and brings back requests nobody works on: any worker that
 * finds a processing list whose heartbeat has expired (its worker was killed) moves the requests
 * back to the queue; a request left in this worker's own processing list because acknowledging or
 * releasing it failed (Redis was away) goes back too, once seen there untracked twice in a row.
 *
 * <p>Workers name themselves in a list of the workers ({@code IMAGES:workers}) with each heartbeat,
 * and each pass looks only at the processing lists of those named there: a pass costs a few
 * commands however many keys Redis holds (results kept as keys run to millions). A full {@code
 * SCAN} of the keyspace, for processing lists of workers not named there (a worker of an earlier
 * version), runs on the first pass and every {@link #FULL_SCAN_EVERY} passes after it.
 */
final class ListRecovery implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ListRecovery.class);

  /**
   * Moves a message from the processing list back to the queue, only if it is still there: one its
   * result was stored for (delivery exactly once), or that recovery moved back already, is not
   * queued a second time.
   */
  static final String REQUEUE =
      "if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 0 then return 0 end"
          + " return redis.call('LPUSH', KEYS[2], ARGV[1])";

  /** Names a worker in the list of workers, once. */
  static final String REGISTER =
      "redis.call('LREM', KEYS[1], 0, ARGV[1]) return redis.call('LPUSH', KEYS[1], ARGV[1])";

  /** How many passes apart the full scans of the keyspace are. */
  static final int FULL_SCAN_EVERY = 24;

  static final String RECOVER =
      "local n = 0; while redis.call('LMOVE', KEYS[1], KEYS[2], 'RIGHT', 'LEFT') do n = n + 1 end; return n";

  private final RedisConfig address;
  private final RedisConnections redis;
  private final String worker;
  private final byte[] images;
  private final byte[] processing;
  private final byte[] workers;
  private final Set<HeldMessage> inFlight;
  private final ScheduledExecutorService timer;
  private Set<HeldMessage> orphanSuspects = Set.of();
  private long passes;

  /**
   * @param inFlight what this worker holds now (taken and not yet settled), kept by the transport
   */
  ListRecovery(
      RedisConfig address, RedisConnections redis, String worker, Set<HeldMessage> inFlight) {
    this.address = address;
    this.redis = redis;
    this.worker = worker;
    this.images = RequestCodec.bytes(address.images());
    this.processing = RequestCodec.bytes(processingKey(address, worker));
    this.workers = RequestCodec.bytes(address.images() + ":workers");
    this.inFlight = inFlight;
    this.timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "conveyor-redis-heartbeat");
              t.setDaemon(true);
              return t;
            });
    heartbeat();
    long ttl = address.heartbeat().toMillis();
    timer.scheduleWithFixedDelay(
        () -> quietly("heartbeat to", this::heartbeat), ttl / 3, ttl / 3, TimeUnit.MILLISECONDS);
    timer.scheduleWithFixedDelay(
        () -> quietly("recovering requests from", this::recover),
        0,
        ttl / 2,
        TimeUnit.MILLISECONDS);
  }

  static String processingKey(RedisConfig address, String worker) {
    return address.images() + ":processing:" + worker;
  }

  static String heartbeatKey(RedisConfig address, String worker) {
    return address.images() + ":worker:" + worker;
  }

  private void heartbeat() {
    redis
        .sync()
        .set(
            RequestCodec.bytes(heartbeatKey(address, worker)),
            new byte[] {1},
            SetArgs.Builder.px(address.heartbeat().toMillis()));
    redis
        .sync()
        .eval(
            REGISTER, ScriptOutputType.INTEGER, new byte[][] {workers}, RequestCodec.bytes(worker));
  }

  private void quietly(String what, Runnable action) {
    try {
      action.run();
    } catch (RuntimeException e) {
      LOG.warn("{} {} failed: {}", what, address.describe(), e.toString());
    }
  }

  /** Moves the requests of workers whose heartbeat has expired back to the queue. */
  void recover() {
    RedisCommands<byte[], byte[]> sync = redis.sync();
    Set<String> seen = new HashSet<>();
    for (byte[] name : sync.lrange(workers, 0, -1)) {
      String owner = RequestCodec.string(name);
      if (seen.add(owner) && recoverIfSilent(sync, owner)) {
        sync.lrem(workers, 0, name);
      }
    }
    if (passes++ % FULL_SCAN_EVERY == 0) {
      String prefix = address.images() + ":processing:";
      ScanArgs match = ScanArgs.Builder.matches(prefix + "*").limit(200);
      KeyScanCursor<byte[]> cursor = sync.scan(match);
      while (true) {
        for (byte[] key : cursor.getKeys()) {
          String owner = RequestCodec.string(key).substring(prefix.length());
          if (seen.add(owner)) {
            recoverIfSilent(sync, owner);
          }
        }
        if (cursor.isFinished()) {
          break;
        }
        cursor = sync.scan(cursor, match);
      }
    }
    requeueOrphans();
  }

  /**
   * Moves what {@code owner} holds back to the queue when its heartbeat has expired.
   *
   * @return whether it had
   */
  private boolean recoverIfSilent(RedisCommands<byte[], byte[]> sync, String owner) {
    if (owner.equals(worker) || sync.exists(RequestCodec.bytes(heartbeatKey(address, owner))) > 0) {
      return false;
    }
    byte[] key = RequestCodec.bytes(processingKey(address, owner));
    Long n = sync.eval(RECOVER, ScriptOutputType.INTEGER, new byte[][] {key, images});
    if (n != null && n > 0) {
      LOG.warn("moved {} requests of the silent worker {} back to {}", n, owner, address.images());
    }
    return true;
  }

  /**
   * Requeues what sits in this worker's processing list without being in flight, once seen so on
   * two passes in a row: requests whose acknowledgement or release failed.
   */
  private void requeueOrphans() {
    RedisCommands<byte[], byte[]> sync = redis.sync();
    Set<HeldMessage> seen = new HashSet<>();
    int requeued = 0;
    for (byte[] message : sync.lrange(processing, 0, -1)) {
      HeldMessage key = new HeldMessage(message);
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
  }

  /** Stops the heartbeat; anything still taken goes back to the queue. */
  @Override
  public void close() {
    timer.shutdownNow();
    try {
      redis.sync().eval(RECOVER, ScriptOutputType.INTEGER, new byte[][] {processing, images});
      redis.sync().del(RequestCodec.bytes(heartbeatKey(address, worker)));
      redis.sync().lrem(workers, 0, RequestCodec.bytes(worker));
    } catch (RuntimeException e) {
      LOG.warn("closing {}: {}", address.describe(), e.toString());
    }
  }
}
