package dev.conveyor.jdbc;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.Transport;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A table as a work queue. A worker takes rows with {@code SELECT … FOR UPDATE SKIP LOCKED} (so
 * workers never wait on each other's rows) and leases them: their {@code visible_at} moves a lease
 * ahead and their delivery count goes up. A stored result deletes its row; a row whose lease runs
 * out (its worker died) is taken again. A row delivered {@code max-deliveries} times without a
 * result turns {@code dead}, with the reason, and is not delivered again. Producers {@code NOTIFY}
 * the table's channel, so an idle worker polls as soon as rows arrive.
 */
final class PostgresTransport implements Transport {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresTransport.class);

  /** How often an idle worker looks for rows whose lease ran out, at least. */
  private static final Duration RECHECK = Duration.ofSeconds(1);

  private final PostgresConfig address;
  private final String worker;

  /** The poller's connection, which also waits for notifications. */
  private Connection connection;

  /** Acknowledgements and releases, from the worker's other threads: never behind a wait. */
  private Connection settler;

  /** With delivery exactly once: stores results in the transaction that deletes their rows. */
  private final PostgresResultSink atomic;

  PostgresTransport(PostgresConfig address, String worker) {
    this.address = address;
    this.worker = worker;
    this.atomic = address.exactlyOnce() ? new PostgresResultSink(address) : null;
  }

  /**
   * With {@code delivery=exactly-once}: a batch's results are inserted in the transaction that
   * deletes their rows, and only those whose row was still there: a worker whose lease ran out
   * while it worked, and whose rows another worker answered meanwhile, stores nothing.
   */
  @Override
  public Optional<ExactlyOnce> exactlyOnce() {
    if (atomic == null) {
      return Optional.empty();
    }
    return Optional.of(
        (deliveries, results) ->
            atomic.storeAndDelete(
                results,
                address.table(),
                deliveries.stream().mapToLong(d -> (Long) d.receipt()).toArray()));
  }

  private Connection connection() throws SQLException {
    // a broken connection shows as a failed query, and poll drops it then
    if (connection == null || connection.isClosed()) {
      dropConnection();
      Connection c = Database.connect(address, "worker " + worker);
      try {
        c.setAutoCommit(true);
        Tables.createQueue(c, address.table());
        try (Statement s = c.createStatement()) {
          s.execute("LISTEN " + Tables.queueChannel(address.table()));
        }
      } catch (SQLException e) {
        c.close();
        throw e;
      }
      connection = c;
    }
    return connection;
  }

  @Override
  public List<Delivery> poll(int max, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      try {
        Connection c = connection();
        List<Delivery> taken = take(c, max);
        if (!taken.isEmpty()) {
          return taken;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return List.of();
        }
        // wait for a producer's notification, or look again for expired leases
        long wait = Math.max(1, Math.min(left / 1_000_000, RECHECK.toMillis()));
        c.unwrap(PGConnection.class).getNotifications((int) wait);
      } catch (SQLException e) {
        LOG.warn("polling {} failed; trying again: {}", address.describe(), Database.why(e));
        dropConnection();
        if (System.nanoTime() >= deadline) {
          return List.of();
        }
        Thread.sleep(Math.min(500, Math.max(1, (deadline - System.nanoTime()) / 1_000_000)));
      }
      if (Thread.interrupted()) {
        throw new InterruptedException();
      }
    }
  }

  private List<Delivery> take(Connection c, int max) throws SQLException {
    String sql =
        """
        WITH picked AS (
          SELECT seq FROM %1$s
          WHERE state = 'queued' AND visible_at <= now()
          ORDER BY visible_at, seq
          LIMIT ?
          FOR UPDATE SKIP LOCKED)
        UPDATE %1$s q
        SET deliveries = q.deliveries + 1,
            visible_at = now() + make_interval(secs => ?),
            worker = ?,
            state = CASE WHEN q.deliveries >= ? THEN 'dead' ELSE 'queued' END,
            error = CASE WHEN q.deliveries >= ?
                    THEN 'gave up after ' || q.deliveries || ' deliveries: '
                         || coalesce(q.error, 'its lease ran out each time (did its worker die?)')
                    ELSE q.error END
        FROM picked WHERE q.seq = picked.seq
        RETURNING q.seq, q.id, q.source, q.image, q.content_type, q.reply_to, q.deliveries, q.state,
          q.model
        """
            .formatted(address.table());
    List<Delivery> out = new ArrayList<>();
    try (PreparedStatement st = c.prepareStatement(sql)) {
      st.setInt(1, max);
      st.setDouble(2, address.lease().toMillis() / 1000.0);
      st.setString(3, worker);
      st.setInt(4, address.maxDeliveries());
      st.setInt(5, address.maxDeliveries());
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          if ("dead".equals(rs.getString(8))) {
            LOG.warn(
                "gave up on request {} after {} deliveries", rs.getString(2), rs.getInt(7) - 1);
            continue;
          }
          String id = rs.getString(2);
          String source = rs.getString(3);
          byte[] image = rs.getBytes(4);
          // a row is a user's insert: one with no source is named by its place in the table
          String place = address.table() + " row " + rs.getLong(1);
          ImageRequest r =
              source == null && image == null
                  ? ImageRequest.unreadable(
                      id, place, "the row has neither an image nor a source to fetch it from")
                  : new ImageRequest(
                      id,
                      source != null ? source : place,
                      image,
                      rs.getString(5),
                      rs.getString(6),
                      System.nanoTime());
          out.add(new Delivery(r.withModel(rs.getString(9)), rs.getInt(7), rs.getLong(1)));
        }
      }
    }
    return out;
  }

  private Connection settler() throws SQLException {
    if (settler == null || settler.isClosed()) {
      settler = Database.connect(address, "worker " + worker + " acks");
    }
    return settler;
  }

  @Override
  public synchronized void ack(List<Delivery> deliveries) {
    if (deliveries.isEmpty()) {
      return;
    }
    try {
      Connection c = settler();
      try (PreparedStatement st =
          c.prepareStatement("DELETE FROM %s WHERE seq = ANY(?)".formatted(address.table()))) {
        st.setArray(1, seqs(c, deliveries));
        st.executeUpdate();
      }
    } catch (SQLException e) {
      dropSettler();
      throw Database.failed(address, "acknowledging " + deliveries.size() + " rows", e);
    }
  }

  @Override
  public synchronized void release(List<Delivery> deliveries, String reason) {
    if (deliveries.isEmpty()) {
      return;
    }
    try {
      Connection c = settler();
      try (PreparedStatement st =
          c.prepareStatement(
              """
              UPDATE %s
              SET visible_at = now(), worker = NULL, error = ?,
                  state = CASE WHEN deliveries >= ? THEN 'dead' ELSE 'queued' END
              WHERE seq = ANY(?)"""
                  .formatted(address.table()))) {
        st.setString(1, reason);
        st.setInt(2, address.maxDeliveries());
        st.setArray(3, seqs(c, deliveries));
        st.executeUpdate();
      }
      Database.notify(c, Tables.queueChannel(address.table()));
    } catch (SQLException e) {
      dropSettler();
      throw Database.failed(address, "releasing " + deliveries.size() + " rows", e);
    }
  }

  private static Array seqs(Connection c, List<Delivery> deliveries) throws SQLException {
    Long[] seqs = deliveries.stream().map(d -> (Long) d.receipt()).toArray(Long[]::new);
    return c.createArrayOf("bigint", seqs);
  }

  @Override
  public String describe() {
    return address.describe() + " queue " + address.table();
  }

  private void dropConnection() {
    Database.close(connection);
    connection = null;
  }

  private synchronized void dropSettler() {
    Database.close(settler);
    settler = null;
  }

  @Override
  public void close() {
    dropConnection();
    dropSettler();
    if (atomic != null) {
      atomic.close();
    }
  }
}
