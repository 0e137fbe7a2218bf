package dev.conveyor.jdbc;

import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.KeyTable;
import dev.conveyor.core.transport.Replies;
import dev.conveyor.core.transport.Requests;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Results;
import dev.conveyor.core.transport.Transport;
import dev.conveyor.core.worker.HostName;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * PostgreSQL as Conveyor's broker: the queue table as the transport, the results table as the sink,
 * so that a user with only PostgreSQL needs no other broker.
 */
final class PostgresBroker implements Broker {
  private static final AtomicInteger WORKERS = new AtomicInteger();
  private final PostgresConfig address;

  PostgresBroker(PostgresConfig address) {
    this.address = address;
  }

  @Override
  public boolean exactlyOnce() {
    return address.exactlyOnce();
  }

  @Override
  public String describe() {
    return address.describe() + " table " + address.table() + ", results " + address.results();
  }

  @Override
  public Transport transport(int maxBatch) {
    String worker =
        HostName.get() + "/" + ProcessHandle.current().pid() + "-" + WORKERS.incrementAndGet();
    return new PostgresTransport(address, worker);
  }

  @Override
  public ResultSink sink() {
    return new PostgresResultSink(address);
  }

  @Override
  public Requests producer() {
    return new PostgresRequests(address);
  }

  @Override
  public Results results() {
    return new PostgresResults(address);
  }

  @Override
  public Replies client() {
    return new PostgresReplies(address);
  }

  /** The address's table and column as keys: {@code ?table=image_info&column=image_key}. */
  @Override
  public Optional<KeyTable> keys() {
    return Optional.of(new PostgresKeyTable(address));
  }
}
