package dev.conveyor.redis;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.QueuePoll;
import dev.conveyor.core.transport.Transport;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requests published on a Redis channel. Pub/Sub is at most once: every subscribed worker gets
 * every request, a request published while no worker listens is lost, and Redis disconnects a
 * subscriber that falls behind by more than its output-buffer limit ({@code
 * client-output-buffer-limit pubsub}, 32 MB by default). Received requests wait in a bounded queue
 * here; when it is full, new ones are counted as dropped and logged.
 */
public final class PubSubTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(PubSubTransport.class);

  private final RedisConfig address;
  private final RedisConnections redis;
  private final StatefulRedisPubSubConnection<byte[], byte[]> subscription;
  private final BlockingQueue<Delivery> received;
  private final AtomicLong dropped = new AtomicLong();

  public PubSubTransport(RedisConfig address) {
    this.address = address;
    this.redis = new RedisConnections(address);
    this.received =
        new ArrayBlockingQueue<>((int) Math.min(address.maxLength(), Integer.MAX_VALUE));
    this.subscription = redis.pubSub();
    subscription.addListener(
        new RedisPubSubAdapter<>() {
          @Override
          public void message(byte[] channel, byte[] message) {
            receive(message);
          }
        });
    subscription.sync().subscribe(RequestCodec.bytes(address.images()));
  }

  private void receive(byte[] message) {
    ImageRequest request;
    try {
      request = address.typed(RequestCodec.fromJson(message));
    } catch (IllegalArgumentException e) {
      DeadLetters.add(
          redis.sync(), address, null, message, "not a Conveyor request: " + e.getMessage());
      return;
    }
    if (!received.offer(new Delivery(request, 1, null))) {
      long n = dropped.incrementAndGet();
      if (Long.bitCount(n) == 1) {
        LOG.warn(
            "{} requests dropped: the worker's queue of {} is full (Pub/Sub is at most once)",
            n,
            received.size());
      }
    }
  }

  @Override
  public List<Delivery> poll(int max, Duration timeout) throws InterruptedException {
    return QueuePoll.poll(received, max, timeout);
  }

  @Override
  public void ack(List<Delivery> deliveries) {
    // nothing to acknowledge: Pub/Sub keeps no record of deliveries
  }

  @Override
  public void release(List<Delivery> deliveries, String reason) {
    for (Delivery d : deliveries) {
      if (d.attempt() >= address.maxDeliveries()
          || !received.offer(new Delivery(d.request(), d.attempt() + 1, null))) {
        DeadLetters.add(
            redis.sync(), address, d.request().id(), RequestCodec.toJson(d.request()), reason);
      }
    }
  }

  @Override
  public String describe() {
    return address.describe();
  }

  @Override
  public void close() {
    subscription.close();
    redis.close();
  }
}
