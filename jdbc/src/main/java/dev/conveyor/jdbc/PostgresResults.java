package dev.conveyor.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import dev.conveyor.core.broker.ResultReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.postgresql.PGConnection;

/**
 * Reads the results table back as the JSON {@code classify} prints: by id, everything stored, or
 * rows as they are stored (by their {@code time}). Works on a table of the user's with only seed
 * 004's columns too: what is missing is left out of the JSON.
 */
final class PostgresResults implements ResultReader {
  private static final int PAGE = 10_000;

  private final PostgresAddress address;
  private final HikariDataSource pool;

  /** The select of every column, made once the table is there. */
  private String select;

  PostgresResults(PostgresAddress address) {
    this.address = address;
    this.pool = Database.pool(address, 1, "results");
  }

  /**
   * The select of every column Conveyor reads, {@code NULL} for those the table lacks; {@code null}
   * while there is no table yet.
   */
  private String select(Connection c) throws SQLException {
    if (select != null) {
      return select;
    }
    Set<String> columns = Tables.columns(c, address.results());
    if (columns.isEmpty()) {
      return null;
    }
    List<String> wanted = new ArrayList<>();
    for (String col :
        List.of(
            "image_key",
            "category",
            "confidence",
            "hostname",
            "time",
            "status",
            "error_code",
            "error",
            "model",
            "latency_ms",
            "source",
            "predictions")) {
      wanted.add(columns.contains(col) ? col : "NULL AS " + col);
    }
    select = "SELECT " + String.join(", ", wanted) + " FROM " + address.results();
    return select;
  }

  @Override
  public ClassifyResult get(String id) {
    try (Connection c = pool.getConnection()) {
      String select = select(c);
      if (select == null) {
        return null;
      }
      try (PreparedStatement st = c.prepareStatement(select + " WHERE image_key = ?")) {
        st.setString(1, id);
        try (ResultSet rs = st.executeQuery()) {
          return rs.next() ? result(rs) : null;
        }
      }
    } catch (SQLException e) {
      throw Database.failed(address, "reading result " + id, e);
    }
  }

  /** Results of these ids that are stored, in no order. */
  List<ClassifyResult> get(List<String> ids) {
    List<ClassifyResult> out = new ArrayList<>();
    try (Connection c = pool.getConnection()) {
      String select = select(c);
      if (select == null) {
        return out;
      }
      try (PreparedStatement st = c.prepareStatement(select + " WHERE image_key = ANY(?)")) {
        st.setArray(1, c.createArrayOf("text", ids.toArray()));
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            out.add(result(rs));
          }
        }
      }
    } catch (SQLException e) {
      throw Database.failed(address, "reading " + ids.size() + " results", e);
    }
    return out;
  }

  @Override
  public void stored(Consumer<String> json) {
    Timestamp time = null;
    String key = null;
    while (true) {
      List<Row> rows = page(time, key);
      rows.forEach(r -> json.accept(r.json()));
      if (rows.size() < PAGE) {
        return;
      }
      time = rows.get(rows.size() - 1).time();
      key = rows.get(rows.size() - 1).key();
    }
  }

  /** A stored row: where it stands in (time, key) order, and its result as JSON. */
  private record Row(Timestamp time, String key, String json) {}

  /**
   * Up to a page of rows stored after ({@code time}, {@code key}), oldest first; from the first
   * when {@code time} is null.
   */
  private List<Row> page(Timestamp time, String key) {
    List<Row> rows = new ArrayList<>();
    try (Connection c = pool.getConnection()) {
      String select = select(c);
      if (select == null) {
        return rows;
      }
      String where = time == null ? "" : " WHERE (time, image_key) > (?, ?)";
      try (PreparedStatement st =
          c.prepareStatement(select + where + " ORDER BY time, image_key LIMIT " + PAGE)) {
        if (time != null) {
          st.setTimestamp(1, time);
          st.setString(2, key);
        }
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            rows.add(
                new Row(
                    rs.getTimestamp("time"), rs.getString("image_key"), Json.write(result(rs))));
          }
        }
      }
    } catch (SQLException e) {
      throw Database.failed(address, "reading results", e);
    }
    return rows;
  }

  /**
   * Rows are followed by their {@code time}, which is when their transaction started, not when it
   * committed: a row can become visible after rows with a later time. Each poll reads again this
   * far back and skips the keys it has handed on already.
   */
  static final long OVERLAP_MS = 2_000;

  /**
   * Hands on rows stored from now on (by the database's clock), waking when a sink announces stored
   * results, and at least every half second. A row whose transaction took longer than {@link
   * #OVERLAP_MS} to commit can be missed; rows are not handed on twice.
   */
  @Override
  public void follow(BooleanSupplier running, Consumer<String> json) {
    Connection listener = null;
    Timestamp from = null;
    Map<String, Long> seen = new HashMap<>();
    boolean behind = false;
    try {
      while (running.getAsBoolean()) {
        try {
          if (listener == null) {
            listener = Database.connect(address, "follow");
            try (Statement s = listener.createStatement()) {
              s.execute("LISTEN " + Tables.resultsChannel(address.results()));
              if (from == null) {
                try (ResultSet rs = s.executeQuery("SELECT now()")) {
                  rs.next();
                  from = rs.getTimestamp(1);
                }
              }
            }
          }
          long newest = from.getTime();
          // a full page means more are waiting: read on from its end before looking back again
          List<Row> rows = page(new Timestamp(newest - (behind ? 0 : OVERLAP_MS)), "");
          for (Row row : rows) {
            long time = row.time().getTime();
            newest = Math.max(newest, time);
            if (seen.putIfAbsent(row.key(), time) == null) {
              json.accept(row.json());
            }
          }
          long keep = newest - OVERLAP_MS;
          seen.values().removeIf(t -> t < keep);
          from = new Timestamp(newest);
          behind = rows.size() == PAGE;
          if (!behind) {
            listener.unwrap(PGConnection.class).getNotifications(500);
          }
        } catch (SQLException | RuntimeException e) {
          if (!running.getAsBoolean()) {
            return;
          }
          Database.close(listener);
          listener = null;
          Thread.sleep(500);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      Database.close(listener);
    }
  }

  private static ClassifyResult result(ResultSet rs) throws SQLException {
    String key = rs.getString("image_key");
    String status = rs.getString("status");
    String errorCode = rs.getString("error_code");
    String host = rs.getString("hostname");
    float latency = rs.getFloat("latency_ms");
    Double latencyMs = rs.wasNull() ? null : (double) latency;
    if ("error".equals(status) || errorCode != null) {
      ErrorCode code;
      try {
        code = ErrorCode.valueOf(errorCode);
      } catch (RuntimeException e) {
        code = ErrorCode.INTERNAL;
      }
      return new ClassifyResult(
          key,
          rs.getString("source"),
          ClassifyResult.Status.ERROR,
          rs.getString("model"),
          null,
          new ClassifyResult.Error(code, rs.getString("error")),
          host,
          latencyMs);
    }
    List<Prediction> predictions;
    String top = rs.getString("predictions");
    if (top != null) {
      predictions = List.of(Json.read(top, Prediction[].class));
    } else {
      float confidence = rs.getFloat("confidence");
      predictions =
          rs.getString("category") == null
              ? List.of()
              : List.of(new Prediction(-1, rs.getString("category"), confidence));
    }
    return new ClassifyResult(
        key,
        rs.getString("source"),
        ClassifyResult.Status.OK,
        rs.getString("model"),
        predictions,
        null,
        host,
        latencyMs);
  }

  @Override
  public void close() {
    pool.close();
  }
}
