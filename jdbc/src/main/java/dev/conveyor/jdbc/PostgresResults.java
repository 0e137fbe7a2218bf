package dev.conveyor.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import dev.conveyor.core.transport.Results;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.postgresql.PGConnection;

/**
 * Reads the results table back as the JSON {@code classify} prints: by id, everything stored (in
 * key order), or rows as they are stored (by their {@code time}, which the sink writes on every
 * row). Works on a table of the user's with only seed 004's columns too: what is missing is left
 * out of the JSON, and a row with no category in a table that has no {@code status} or {@code
 * error_code} column is an error whose code was not kept.
 */
final class PostgresResults implements Results {
  private static final int PAGE = 10_000;

  private final PostgresAddress address;
  private final HikariDataSource pool;

  /** The select of every column, made once the table is there. */
  private String select;

  /** Whether the table can say a row is an error ({@code status} or {@code error_code}). */
  private boolean saysErrors;

  /** Whether the table has a {@code time} column, which following rows needs. */
  private boolean hasTime;

  /**
   * Whether that column holds instants ({@code timestamptz}); else it holds UTC wall-clock times,
   * as the sink, whose sessions are in UTC, writes them.
   */
  private boolean zoned;

  /** Whether the select's first parameter is the key prefix, which makes each row's source. */
  private boolean sourceFromKey;

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
    if (!columns.contains("source") && !address.keyPrefix().isEmpty()) {
      // a table of the user's that keeps only the key: its image is key-prefix + key
      wanted.set(wanted.indexOf("NULL AS source"), "? || image_key AS source");
      sourceFromKey = true;
    }
    saysErrors = columns.contains("status") || columns.contains("error_code");
    String timeType = columns.contains("time") ? Tables.type(c, address.results(), "time") : null;
    hasTime = "timestamp".equals(timeType) || "timestamptz".equals(timeType);
    zoned = "timestamptz".equals(timeType);
    // when each row was stored, in microseconds since the epoch, whatever the column's type
    wanted.add(
        !hasTime
            ? "NULL::bigint AS conveyor_micros"
            : zoned
                ? "(extract(epoch FROM time) * 1000000)::bigint AS conveyor_micros"
                : "(extract(epoch FROM time AT TIME ZONE 'UTC') * 1000000)::bigint AS conveyor_micros");
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
        st.setString(prefix(st), id);
        try (ResultSet rs = st.executeQuery()) {
          return rs.next() ? result(rs, saysErrors) : null;
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
        st.setArray(prefix(st), c.createArrayOf("text", ids.toArray()));
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            out.add(result(rs, saysErrors));
          }
        }
      }
    } catch (SQLException e) {
      throw Database.failed(address, "reading " + ids.size() + " results", e);
    }
    return out;
  }

  /** Every stored row, in key order, read through a cursor (one snapshot, in pages). */
  @Override
  public void stored(Consumer<String> json) {
    try (Connection c = pool.getConnection()) {
      String select = select(c);
      if (select == null) {
        return;
      }
      // PostgreSQL keeps a cursor only inside a transaction
      Database.transaction(
          c,
          () -> {
            try (PreparedStatement st = c.prepareStatement(select + " ORDER BY image_key")) {
              prefix(st);
              st.setFetchSize(PAGE);
              try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                  json.accept(Json.write(result(rs, saysErrors)));
                }
              }
            }
          });
    } catch (SQLException e) {
      throw Database.failed(address, "reading results", e);
    }
  }

  /**
   * A stored row: when it was stored, in microseconds since the epoch (null when the table has no
   * time, or the row none), its key and its JSON.
   */
  private record Row(Long micros, String key, String json) {}

  /** Sets the key prefix when the select takes it; returns the number of the next parameter. */
  private int prefix(PreparedStatement st) throws SQLException {
    if (!sourceFromKey) {
      return 1;
    }
    st.setString(1, address.keyPrefix());
    return 2;
  }

  /**
   * Up to a page of rows stored after ({@code micros}, {@code key}), oldest first. The bound is
   * made in the column's own type, so the comparison uses its index and no client's time zone.
   */
  private List<Row> byTime(long micros, String key) {
    List<Row> rows = new ArrayList<>();
    try (Connection c = pool.getConnection()) {
      String select = select(c);
      if (select == null) {
        return rows;
      }
      String bound =
          zoned
              ? "to_timestamp(?::float8 / 1000000)"
              : "(to_timestamp(?::float8 / 1000000) AT TIME ZONE 'UTC')";
      try (PreparedStatement st =
          c.prepareStatement(
              select
                  + " WHERE (time, image_key) > ("
                  + bound
                  + ", ?) ORDER BY time, image_key LIMIT "
                  + PAGE)) {
        int i = prefix(st);
        st.setLong(i, micros);
        st.setString(i + 1, key);
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            rows.add(
                new Row(
                    (Long) rs.getObject("conveyor_micros"),
                    rs.getString("image_key"),
                    Json.write(result(rs, saysErrors))));
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
    Long from = null;
    Map<String, Long> seen = new HashMap<>();
    boolean behind = false;
    boolean noTime = false;
    try {
      while (running.getAsBoolean()) {
        try {
          if (listener == null) {
            listener = Database.connect(address, "follow");
            try (Statement s = listener.createStatement()) {
              s.execute("LISTEN " + Tables.resultsChannel(address.results()));
              if (from == null) {
                try (ResultSet rs =
                    s.executeQuery("SELECT (extract(epoch FROM now()) * 1000000)::bigint")) {
                  rs.next();
                  from = rs.getLong(1);
                }
              }
            }
          }
          try (Connection c = pool.getConnection()) {
            if (select(c) != null && !hasTime) {
              noTime = true;
            }
          }
          if (noTime) {
            break;
          }
          long newest = from;
          // a full page means more are waiting: read on from its end before looking back again
          List<Row> rows = byTime(newest - (behind ? 0 : OVERLAP_MS * 1000), "");
          for (Row row : rows) {
            long time = row.micros();
            newest = Math.max(newest, time);
            if (seen.putIfAbsent(row.key(), time) == null) {
              json.accept(row.json());
            }
          }
          long keep = newest - OVERLAP_MS * 1000;
          seen.values().removeIf(t -> t < keep);
          from = newest;
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
    if (noTime) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          ("the results table %s has no time column of a timestamp type, which following its"
                  + " rows needs: ALTER TABLE %s ADD COLUMN time TIMESTAMPTZ (Conveyor's sink"
                  + " writes it on every row)")
              .formatted(address.results(), address.results()));
    }
  }

  /**
   * A row as a result.
   *
   * @param saysErrors whether the table has a status or error_code column; without, a row with no
   *     category and no predictions is an error whose code was not kept
   */
  private static ClassifyResult result(ResultSet rs, boolean saysErrors) throws SQLException {
    String key = rs.getString("image_key");
    String status = rs.getString("status");
    String errorCode = rs.getString("error_code");
    String host = rs.getString("hostname");
    float latency = rs.getFloat("latency_ms");
    Double latencyMs = rs.wasNull() ? null : (double) latency;
    boolean uncoded =
        !saysErrors && rs.getString("category") == null && rs.getString("predictions") == null;
    if ("error".equals(status) || errorCode != null || uncoded) {
      ErrorCode code;
      try {
        code = ErrorCode.valueOf(errorCode);
      } catch (RuntimeException e) {
        code = ErrorCode.INTERNAL;
      }
      String message = rs.getString("error");
      if (uncoded && message == null) {
        message = "an error; the results table has no error_code column to keep its code";
      }
      return new ClassifyResult(
          key,
          rs.getString("source"),
          ClassifyResult.Status.ERROR,
          rs.getString("model"),
          null,
          new ClassifyResult.Error(code, message),
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
