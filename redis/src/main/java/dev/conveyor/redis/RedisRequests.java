package dev.conveyor.redis;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Requests;
import io.lettuce.core.RedisException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.XAddArgs;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts requests on Redis with back-pressure: a list is never pushed past {@code max-length}, and a
 * stream is added to only while fewer than half of {@code max-length} entries wait or are being
 * processed (the stream is trimmed at {@code max-length}, so trimming never reaches a request not
 * yet done). A full queue makes {@link #send} wait, and answers {@code BUSY} when the wait runs
 * out. While Redis is unreachable (a restart), sending is retried with backoff for as long. Pub/Sub
 * has no queue to bound: a request published while no worker listens is lost.
 */
public final class RedisRequests implements Requests {
  private static final Logger LOG = LoggerFactory.getLogger(RedisRequests.class);
  private static final String BOUNDED_PUSH =
      "if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[1]) then return -1 end;"
          + " return redis.call('RPUSH', KEYS[1], ARGV[2])";
  private static final long BACKLOG_CHECK_NANOS = 50_000_000L;

  private final RedisConfig address;
  private final RedisConnections redis;
  private final byte[] images;
  private final byte[] limit;
  private long backlog;
  private long backlogCheckedAt;
  private boolean warnedNoSubscriber;

  public RedisRequests(RedisConfig address) {
    this.address = address;
    this.redis = new RedisConnections(address);
    this.images = RequestCodec.bytes(address.images());
    this.limit = RequestCodec.bytes(Long.toString(address.maxLength()));
    if (address.mode() == RedisConfig.Mode.STREAM) {
      Streams.ensureGroup(redis.sync(), address);
    }
  }

  /**
   * Sends a request, waiting up to {@code maxWait} for room; returns once Redis has it.
   *
   * @throws ConveyorException {@code BUSY} when the queue stayed full, {@code UNAVAILABLE} when
   *     Redis did not answer
   */
  @Override
  public void send(ImageRequest request, Duration maxWait) throws InterruptedException {
    long deadline = System.nanoTime() + maxWait.toNanos();
    long backoffMillis = 1;
    RuntimeException unreachable = null;
    while (true) {
      try {
        if (trySend(request)) {
          return;
        }
        unreachable = null;
      } catch (RedisException e) {
        // Redis is away (restarting, say): the client reconnects by itself; wait and send again
        unreachable = e;
        backoffMillis = Math.max(backoffMillis, 100);
      }
      if (System.nanoTime() > deadline) {
        if (unreachable != null) {
          throw new ConveyorException(
              ErrorCode.TIMEOUT,
              "Redis at %s did not answer within %s: %s"
                  .formatted(address.describe(), maxWait, unreachable.getMessage()),
              unreachable);
        }
        throw new ConveyorException(
            ErrorCode.BUSY,
            "%s is full (%d requests waiting); try again later"
                .formatted(address.images(), address.maxLength()));
      }
      Thread.sleep(backoffMillis);
      backoffMillis = Math.min(unreachable != null ? 2_000 : 50, backoffMillis * 2);
    }
  }

  private boolean trySend(ImageRequest request) {
    switch (address.mode()) {
      case LIST -> {
        Long length =
            redis
                .sync()
                .eval(
                    BOUNDED_PUSH,
                    ScriptOutputType.INTEGER,
                    new byte[][] {images},
                    limit,
                    RequestCodec.toJson(request));
        return length != null && length >= 0;
      }
      case STREAM -> {
        long now = System.nanoTime();
        if (backlog >= address.maxLength() / 2 || now - backlogCheckedAt > BACKLOG_CHECK_NANOS) {
          backlog = Streams.backlog(redis.sync(), address);
          backlogCheckedAt = now;
        }
        if (backlog >= address.maxLength() / 2) {
          return false;
        }
        redis
            .sync()
            .xadd(
                images,
                XAddArgs.Builder.maxlen(address.maxLength()).approximateTrimming(),
                RequestCodec.toFields(request));
        backlog++;
        return true;
      }
      case PUBSUB -> {
        Long receivers = redis.sync().publish(images, RequestCodec.toJson(request));
        if ((receivers == null || receivers == 0) && !warnedNoSubscriber) {
          warnedNoSubscriber = true;
          LOG.warn(
              "no worker is subscribed to {}: requests published now are lost (Pub/Sub is at most once)",
              address.images());
        }
        return true;
      }
      default -> throw new IllegalStateException();
    }
  }

  /** Nothing is pending: each send returned once Redis had the request. */
  @Override
  public List<Failure> flush(Duration maxWait) {
    return List.of();
  }

  @Override
  public void close() {
    redis.close();
  }
}
