package dev.conveyor.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Requests;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Adds requests to the queue table, in groups of up to {@value #GROUP} rows per transaction (and at
 * {@link #flush}), then notifies waiting workers. A request carries its bytes, or only its key
 * ({@code s3://…}) for the worker to fetch. Beyond {@code max-length} waiting rows a send waits for
 * room, and answers {@code BUSY} when none comes in time.
 */
final class PostgresRequests implements Requests {
  private static final int GROUP = 256;

  private final PostgresConfig address;
  private final HikariDataSource pool;
  private final List<ImageRequest> held = new ArrayList<>();
  private boolean tableReady;
  private long room;

  PostgresRequests(PostgresConfig address) {
    this.address = address;
    this.pool = Database.pool(address, 1, "producer");
  }

  @Override
  public synchronized void send(ImageRequest request, Duration maxWait)
      throws InterruptedException {
    long deadline = System.nanoTime() + maxWait.toNanos();
    while (room <= 0) {
      room = address.maxLength() - waiting() - held.size();
      if (room > 0) {
        break;
      }
      if (System.nanoTime() >= deadline) {
        throw new ConveyorException(
            ErrorCode.BUSY,
            "the queue %s holds %d rows, its max-length: try again later"
                .formatted(address.table(), address.maxLength()));
      }
      Thread.sleep(100);
    }
    held.add(request);
    room--;
    if (held.size() >= GROUP) {
      try {
        insertHeld();
      } catch (ConveyorException e) {
        // this one is refused now; those held before it are tried again at the next insert
        held.remove(held.size() - 1);
        throw e;
      }
    }
  }

  private long waiting() {
    try (Connection c = pool.getConnection();
        Statement s = c.createStatement()) {
      ready(c);
      try (ResultSet rs =
          s.executeQuery(
              "SELECT count(*) FROM %s WHERE state = 'queued'".formatted(address.table()))) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (SQLException e) {
      throw Database.failed(address, "counting the queue", e);
    }
  }

  private void ready(Connection c) throws SQLException {
    if (!tableReady) {
      Tables.createQueue(c, address.table());
      tableReady = true;
    }
  }

  private void insertHeld() {
    if (held.isEmpty()) {
      return;
    }
    try (Connection c = pool.getConnection()) {
      ready(c);
      Database.transaction(
          c,
          () -> {
            try (PreparedStatement st =
                c.prepareStatement(
                    ("INSERT INTO %s (id, source, image, content_type, reply_to, model)"
                            + " VALUES (?, ?, ?, ?, ?, ?)")
                        .formatted(address.table()))) {
              for (ImageRequest r : held) {
                st.setString(1, r.id());
                st.setString(2, r.source());
                st.setBytes(3, r.hasBytes() ? r.bytes() : null);
                st.setString(4, r.contentType());
                st.setString(5, r.replyTo());
                st.setString(6, r.model());
                st.addBatch();
              }
              st.executeBatch();
            }
            Database.notify(c, Tables.queueChannel(address.table()));
          });
      held.clear();
    } catch (SQLException e) {
      throw Database.failed(address, "adding " + held.size() + " requests", e);
    }
  }

  @Override
  public synchronized List<Failure> flush(Duration maxWait) {
    List<ImageRequest> sending = List.copyOf(held);
    try {
      insertHeld();
      return List.of();
    } catch (ConveyorException e) {
      held.clear();
      return sending.stream().map(r -> new Failure(r, e)).toList();
    }
  }

  @Override
  public synchronized void close() {
    try {
      insertHeld();
    } finally {
      pool.close();
    }
  }
}
