package dev.conveyor.jdbc;

import dev.conveyor.core.broker.Broker;
import dev.conveyor.core.broker.Producer;
import dev.conveyor.core.broker.ReplyClient;
import dev.conveyor.core.broker.ResultReader;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Transport;
import dev.conveyor.core.worker.HostName;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * PostgreSQL as Conveyor's broker: the queue table as the transport, the results table as the sink,
 * so that a user with only PostgreSQL needs no other broker.
 */
final class PostgresBroker implements Broker {
  private static final AtomicInteger WORKERS = new AtomicInteger();
  private final PostgresAddress address;

  PostgresBroker(PostgresAddress address) {
    this.address = address;
  }

  @Override
  public String describe() {
    return address.describe() + " table " + address.table() + ", results " + address.results();
  }

  @Override
  public Transport transport(int maxBatch) {
    String worker =
        HostName.get() + "/" + ProcessHandle.current().pid() + "-" + WORKERS.incrementAndGet();
    return new PostgresQueue(address, worker);
  }

  @Override
  public ResultSink sink() {
    return new PostgresResultSink(address);
  }

  @Override
  public Producer producer() {
    return new PostgresRequests(address);
  }

  @Override
  public ResultReader results() {
    return new PostgresResults(address);
  }

  @Override
  public ReplyClient client() {
    return new PostgresReplies(address);
  }
}
