package dev.conveyor.kafka;

import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Replies;
import dev.conveyor.core.transport.Transport;

/** Conveyor's Kafka pieces for one address: transport, result sink, producer, result reader. */
public final class KafkaBroker implements Broker {
  private final KafkaConfig address;

  public KafkaBroker(KafkaConfig address) {
    this.address = address;
  }

  @Override
  public boolean exactlyOnce() {
    return address.exactlyOnce();
  }

  @Override
  public String describe() {
    return address.describe();
  }

  @Override
  public Transport transport(int maxBatch) {
    return new KafkaTransport(address, maxBatch);
  }

  @Override
  public KafkaResultSink sink() {
    return new KafkaResultSink(address);
  }

  @Override
  public KafkaRequests producer() {
    return new KafkaRequests(address);
  }

  @Override
  public KafkaResults results() {
    return new KafkaResults(address);
  }

  @Override
  public Replies client() {
    return new KafkaReplies(address);
  }
}
