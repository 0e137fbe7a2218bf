package dev.conveyor.jdbc;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Replies;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.postgresql.PGConnection;

/**
 * A front for callers ({@code serve --from postgresql://…}): requests go into the queue table, and
 * their results are read from the results table by id when a sink announces stored results (or
 * every half second).
 */
final class PostgresReplies implements Replies {
  private final PostgresConfig address;
  private final PostgresRequests requests;
  private final PostgresResults results;
  private final Set<String> waiting = ConcurrentHashMap.newKeySet();
  private Connection listener;

  PostgresReplies(PostgresConfig address) {
    this.address = address;
    this.requests = new PostgresRequests(address);
    this.results = new PostgresResults(address);
  }

  @Override
  public void send(ImageRequest request, Duration maxWait) throws InterruptedException {
    waiting.add(request.id());
    try {
      requests.send(request, maxWait);
      if (!requests.flush(maxWait).isEmpty()) {
        throw Database.failed(
            address, "adding request " + request.id(), new SQLException("the insert failed"));
      }
    } catch (RuntimeException | InterruptedException e) {
      waiting.remove(request.id());
      throw e;
    }
  }

  @Override
  public void poll(Consumer<ClassifyResult> handler) {
    try {
      if (listener == null) {
        listener = Database.connect(address, "replies");
        try (Statement s = listener.createStatement()) {
          s.execute("LISTEN " + Tables.resultsChannel(address.results()));
        }
      }
      listener.unwrap(PGConnection.class).getNotifications(500);
    } catch (SQLException e) {
      closeListener();
      try {
        Thread.sleep(200);
      } catch (InterruptedException interrupted) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    if (waiting.isEmpty()) {
      return;
    }
    List<String> ids = new ArrayList<>(waiting);
    for (ClassifyResult r : results.get(ids)) {
      if (waiting.remove(r.id())) {
        handler.accept(r);
      }
    }
  }

  @Override
  public String name() {
    return address.exactlyOnce() ? "postgresql, exactly once" : "postgresql";
  }

  private void closeListener() {
    Database.close(listener);
    listener = null;
  }

  @Override
  public void close() {
    closeListener();
    requests.close();
    results.close();
  }
}
