package dev.conveyor.redis;

import io.lettuce.core.api.sync.RedisCommands;
import java.util.Collection;

/**
 * Acknowledges entries of a stream's consumer group ({@code XACK}) from outside the consumer that
 * read them: an engine's sink once their results are stored, a query for its last batch. It
 * connects at the first acknowledgement and keeps the connection.
 */
public final class StreamAcks implements AutoCloseable {
  private final RedisConfig address;
  private final byte[] stream;
  private final byte[] group;
  private RedisConnections redis;

  public StreamAcks(RedisConfig address) {
    this.address = address;
    this.stream = RequestCodec.bytes(address.images());
    this.group = RequestCodec.bytes(address.group());
  }

  /**
   * Acknowledges entries and waits for Redis to take them.
   *
   * @return how many of them were still pending
   * @throws RuntimeException when Redis cannot be reached or refuses (a {@link
   *     dev.conveyor.core.ConveyorException} {@code UNAVAILABLE} for a refused connection)
   */
  public long ack(Collection<String> ids) {
    if (ids.isEmpty()) {
      return 0;
    }
    if (redis == null) {
      redis = new RedisConnections(address, true); // engines ack with no retry of their own
    }
    RedisCommands<byte[], byte[]> sync = redis.sync();
    return sync.xack(stream, group, ids.toArray(String[]::new));
  }

  @Override
  public void close() {
    if (redis != null) {
      redis.close();
      redis = null;
    }
  }
}
