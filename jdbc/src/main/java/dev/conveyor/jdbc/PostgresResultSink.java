package dev.conveyor.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import dev.conveyor.core.transport.PositionStore;
import dev.conveyor.core.worker.HostName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Results as rows of the results table (made when missing), one per request id: seed 004's columns,
 * {@code image_key} (the request id), {@code category}, {@code confidence}, {@code hostname},
 * {@code time}, and Conveyor's {@code status}, {@code error_code}, {@code error}, {@code model},
 * {@code latency_ms}, {@code source} and the top-k as JSON in {@code predictions}. A table of the
 * user's with only some of these columns gets those. Every column is written by the insert itself,
 * {@code time} too (the database's {@code now()}), so no row depends on a default the table may not
 * have; a column without a time zone gets UTC, whichever host writes it. An error stored in a table
 * without {@code status} or {@code error_code} has no category, which is how {@link
 * PostgresResults} knows it for an error. Inserts are batched in one transaction, and idempotent: a
 * redelivered request whose row is there adds nothing. With {@link #storeAt}, the consumed offsets
 * of a Kafka batch move in the same transaction ({@link PostgresPositions}).
 */
final class PostgresResultSink implements PositionStore {
  private static final Logger LOG = LoggerFactory.getLogger(PostgresResultSink.class);

  /** What was said about a table already: each once per process, however many sinks it has. */
  private static final Set<String> WARNED = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * A column Conveyor can fill, and how: from the result, as a parameter ({@code mark} {@code ?} or
   * {@code ?::jsonb}), or by an SQL expression of its own ({@code value} null).
   */
  private record Column(
      String name, int type, String mark, Function<ClassifyResult, Object> value) {
    Column(String name, int type, Function<ClassifyResult, Object> value) {
      this(name, type, type == Types.OTHER ? "?::jsonb" : "?", value);
    }
  }

  private static final List<Column> COLUMNS =
      List.of(
          new Column("image_key", Types.VARCHAR, ClassifyResult::id),
          new Column("category", Types.VARCHAR, r -> r.top() == null ? null : r.top().label()),
          new Column("confidence", Types.REAL, r -> r.top() == null ? null : r.top().score()),
          new Column("hostname", Types.VARCHAR, r -> r.host() != null ? r.host() : HostName.get()),
          new Column("time", Types.TIMESTAMP, "now()", null),
          new Column("status", Types.VARCHAR, r -> r.isOk() ? "ok" : "error"),
          new Column("error_code", Types.VARCHAR, r -> r.isOk() ? null : r.error().code().name()),
          new Column("error", Types.VARCHAR, r -> r.isOk() ? null : r.error().message()),
          new Column("model", Types.VARCHAR, ClassifyResult::model),
          new Column(
              "latency_ms",
              Types.REAL,
              r -> r.latencyMs() == null ? null : r.latencyMs().floatValue()),
          new Column("source", Types.VARCHAR, ClassifyResult::source),
          new Column("predictions", Types.OTHER, PostgresResultSink::predictions));

  private final PostgresConfig address;
  private final HikariDataSource pool;
  private final PostgresPositions positions;
  private String insert;
  private List<Column> columns;

  /** The table has no unique index on image_key: the insert looks for the row first. */
  private boolean checkFirst;

  PostgresResultSink(PostgresConfig address) {
    this.address = address;
    this.pool = Database.pool(address, address.pool(), "sink");
    this.positions = new PostgresPositions(address.offsets());
    // look at the table now, so that what it cannot hold is said at start, without holding the
    // start up; a database that is not there yet is looked at again on the first results
    CompletableFuture.runAsync(
        () -> {
          try (Connection c = pool.getConnection()) {
            insert(c);
          } catch (SQLException | RuntimeException e) {
            LOG.debug("the results table is looked at on the first results: {}", e.getMessage());
          }
        });
  }

  private static String predictions(ClassifyResult r) {
    List<Prediction> p = r.predictions();
    return p == null ? null : Json.write(p);
  }

  /** The insert for the table as it is, made on first use (the table is created if missing). */
  private synchronized String insert(Connection c) throws SQLException {
    if (insert == null) {
      String table = address.results();
      Set<String> present = Tables.columns(c, table);
      if (present.isEmpty()) {
        Tables.createResults(c, table);
        present = Tables.columns(c, table);
      }
      if (!present.contains("image_key")) {
        throw new SQLException(
            "the results table " + table + " has no image_key column, which Conveyor fills");
      }
      List<Column> used = new ArrayList<>();
      for (Column col : COLUMNS) {
        if (present.contains(col.name())) {
          used.add(col);
        }
      }
      String names = String.join(", ", used.stream().map(Column::name).toList());
      String marks = String.join(", ", used.stream().map(Column::mark).toList());
      if (!present.contains("error_code") && WARNED.add(address.describe() + " codes " + table)) {
        LOG.warn(
            "{} has no error_code column: an error is stored as a row with no category, and read"
                + " back as an error without its code; ALTER TABLE {} ADD COLUMN status TEXT, ADD"
                + " COLUMN error_code TEXT, ADD COLUMN error TEXT keeps it",
            table,
            table);
      }
      checkFirst = !Tables.unique(c, table, "image_key");
      if (!checkFirst) {
        insert =
            "INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (image_key) DO NOTHING"
                .formatted(table, names, marks);
      } else {
        if (WARNED.add(address.describe() + " unique " + table)) {
          LOG.warn(
              "{} has no unique index on image_key: a redelivered request is checked for with a"
                  + " query, which two workers can race; CREATE UNIQUE INDEX ON {} (image_key)"
                  + " makes it exact",
              table,
              table);
        }
        insert =
            "INSERT INTO %1$s (%2$s) SELECT %3$s WHERE NOT EXISTS (SELECT 1 FROM %1$s WHERE image_key = ?)"
                .formatted(table, names, marks);
      }
      columns = used;
    }
    return insert;
  }

  /** Looks at the table again on the next results: it may have changed, or be back. */
  private synchronized void forget() {
    insert = null;
  }

  @Override
  public void deliver(List<ImageRequest> requests, List<ClassifyResult> results)
      throws SQLException {
    if (!results.isEmpty()) {
      store(results, (c, stored) -> java.util.Arrays.fill(stored, true));
    }
  }

  @Override
  public Map<Integer, Long> positions(String reader, String log) throws SQLException {
    try (Connection c = pool.getConnection()) {
      positions.ensure(c);
      return positions.read(c, reader, log);
    }
  }

  @Override
  public Map<Integer, Long> storeAt(
      String reader,
      String log,
      Map<Integer, Long> from,
      Map<Integer, Long> to,
      List<ImageRequest> requests,
      List<ClassifyResult> results)
      throws SQLException {
    if (!positions.made()) {
      try (Connection c = pool.getConnection()) {
        positions.ensure(c);
      }
    }
    try {
      store(
          results,
          (c, stored) -> {
            if (!positions.move(c, reader, log, from, to)) {
              throw new Moved();
            }
            java.util.Arrays.fill(stored, true);
          });
      return Map.of();
    } catch (Moved moved) {
      Map<Integer, Long> at = new java.util.HashMap<>(positions(reader, log));
      at.keySet().retainAll(to.keySet());
      return at;
    }
  }

  /** A partition's offset was not where the batch began: the transaction is rolled back. */
  private static final class Moved extends RuntimeException {
    Moved() {
      super(null, null, false, false);
    }
  }

  /**
   * Stores results in the transaction that deletes their requests' rows from {@code queue}, for
   * delivery exactly once: only the results whose row was still there are stored (a row deleted
   * already was answered by another worker, which took it once this one's lease ran out).
   *
   * @param seqs each result's row in the queue
   * @return for each result, whether it was stored
   */
  boolean[] storeAndDelete(List<ClassifyResult> results, String queue, long[] seqs)
      throws SQLException {
    return store(results, (c, stored) -> Tables.deleteRows(c, queue, seqs, stored));
  }

  /** What a transaction does before its inserts: marks the results to store. */
  private interface Before {
    void run(Connection c, boolean[] stored) throws SQLException;
  }

  private boolean[] store(List<ClassifyResult> results, Before before) throws SQLException {
    boolean[] stored = new boolean[results.size()];
    try (Connection c = pool.getConnection()) {
      String sql;
      List<Column> columns;
      boolean checkFirst;
      synchronized (this) {
        sql = insert(c);
        columns = this.columns;
        checkFirst = this.checkFirst;
      }
      Database.transaction(
          c,
          () -> {
            before.run(c, stored);
            try (PreparedStatement st = c.prepareStatement(sql)) {
              for (int k = 0; k < results.size(); k++) {
                if (!stored[k]) {
                  continue;
                }
                ClassifyResult r = results.get(k);
                int i = 1;
                for (Column col : columns) {
                  if (col.value() == null) {
                    continue;
                  }
                  Object v = col.value().apply(r);
                  if (v == null) {
                    st.setNull(i++, col.type() == Types.OTHER ? Types.VARCHAR : col.type());
                  } else {
                    st.setObject(i++, v, col.type() == Types.OTHER ? Types.VARCHAR : col.type());
                  }
                }
                if (checkFirst) {
                  st.setString(i, r.id());
                }
                st.addBatch();
              }
              int again = 0;
              for (int rows : st.executeBatch()) {
                again += rows == 0 ? 1 : 0;
              }
              if (again > 0) {
                LOG.info(
                    "{} of {} results were in {} already (their requests were answered before):"
                        + " not stored again",
                    again,
                    results.size(),
                    address.results());
              }
            }
            Database.notify(c, Tables.resultsChannel(address.results()));
          });
    } catch (SQLException e) {
      forget();
      throw new SQLException(
          "storing %d results in %s on %s failed: %s"
              .formatted(results.size(), address.results(), address.describe(), Database.why(e)),
          e);
    }
    return stored;
  }

  @Override
  public void close() {
    pool.close();
  }
}
