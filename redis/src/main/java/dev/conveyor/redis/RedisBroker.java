package dev.conveyor.redis;

import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Replies;
import dev.conveyor.core.transport.Transport;

/** Conveyor's Redis pieces for one address: the transport of its mode, the sink, the producer. */
public final class RedisBroker implements Broker {
  private final RedisConfig address;

  public RedisBroker(RedisConfig address) {
    this.address = address;
  }

  public RedisConfig address() {
    return address;
  }

  @Override
  public boolean exactlyOnce() {
    return address.exactlyOnce();
  }

  @Override
  public String describe() {
    return address.describe();
  }

  /** The transport for the address's mode: list, Pub/Sub or stream. */
  @Override
  public Transport transport(int maxBatch) {
    return switch (address.mode()) {
      case LIST -> new ListTransport(address);
      case PUBSUB -> new PubSubTransport(address);
      case STREAM -> new StreamTransport(address);
    };
  }

  @Override
  public RedisResultSink sink() {
    return new RedisResultSink(address);
  }

  @Override
  public RedisRequests producer() {
    return new RedisRequests(address);
  }

  @Override
  public RedisResults results() {
    return new RedisResults(address);
  }

  @Override
  public Replies client() {
    return new RedisReplies(address);
  }
}
