package dev.conveyor.flink;

import dev.conveyor.redis.RedisConfig;
import dev.conveyor.redis.StreamAcks;
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
  private final RedisConfig address;
  private final StreamAcks acks;

  /**
   * @param uri the source's {@code redis://…?mode=stream} URI
   */
  SourceAcks(String uri) {
    this.address = RedisConfig.parse(uri);
    this.acks = new StreamAcks(address);
  }

  /** Acknowledges stored entries, and waits for Redis to take them. */
  void acknowledge(List<String> entries) {
    if (entries.isEmpty()) {
      return;
    }
    try {
      acks.ack(entries);
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
    acks.close();
  }
}
