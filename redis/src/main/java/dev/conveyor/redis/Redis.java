package dev.conveyor.redis;

import dev.conveyor.core.transport.Transport;

/** Conveyor's Redis pieces for one address: the transport of its mode, the sink, the producer. */
public final class Redis {
  private Redis() {}

  /** The transport for the address's mode: list, Pub/Sub or stream. */
  public static Transport transport(RedisAddress address) {
    return switch (address.mode()) {
      case LIST -> new ListTransport(address);
      case PUBSUB -> new PubSubTransport(address);
      case STREAM -> new StreamTransport(address);
    };
  }

  public static RedisResultSink sink(RedisAddress address) {
    return new RedisResultSink(address);
  }

  public static RedisProducer producer(RedisAddress address) {
    return new RedisProducer(address);
  }

  public static RedisResults results(RedisAddress address) {
    return new RedisResults(address);
  }
}
