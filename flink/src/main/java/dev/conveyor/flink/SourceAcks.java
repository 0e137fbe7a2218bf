package dev.conveyor.flink;

import dev.conveyor.redis.RedisAddress;
import dev.conveyor.redis.RequestCodec;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Acknowledges a Redis stream source's entries ({@code XACK} to its consumer group) from the sink,
 * once their results are stored: how a job without checkpoints loses nothing. It opens its own
 * connection to the source's Redis. A failed acknowledgement is logged: the entries stay pending
 * and are read again (a duplicate, never a loss).
 */
final class SourceAcks implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(SourceAcks.class);
  private final RedisAddress address;
  private final byte[] stream;
  private final byte[] group;
  private RedisClient client;
  private StatefulRedisConnection<byte[], byte[]> redis;

  /**
   * @param uri the source's {@code redis://…?mode=stream} URI
   */
  SourceAcks(String uri) {
    this.address = RedisAddress.parse(uri);
    this.stream = RequestCodec.bytes(address.images());
    this.group = RequestCodec.bytes(address.group());
  }

  /** Acknowledges stored entries, and waits for Redis to take them. */
  void acknowledge(List<String> entries) {
    if (entries.isEmpty()) {
      return;
    }
    try {
      if (redis == null) {
        RedisClient c = address.client();
        try {
          redis = c.connect(ByteArrayCodec.INSTANCE);
        } catch (RuntimeException e) {
          c.shutdown(Duration.ZERO, Duration.ofSeconds(2));
          throw e;
        }
        client = c;
      }
      redis.sync().xack(stream, group, entries.toArray(String[]::new));
    } catch (RuntimeException e) {
      LOG.warn(
          "could not acknowledge {} entries of {} (they will be read again)",
          entries.size(),
          address.describe(),
          e);
    }
  }

  @Override
  public void close() {
    if (redis != null) {
      redis.close();
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      redis = null;
    }
  }
}
