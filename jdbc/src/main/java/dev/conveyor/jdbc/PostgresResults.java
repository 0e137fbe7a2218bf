package dev.conveyor.jdbc;

import com.zaxxer.hikari.HikariDataSource;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.Json;
import dev.conveyor.core.transport.Results;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Reads the results table back as the JSON {@code classify} prints: by id, everything stored (in
 * key order), or rows as they are stored (by their {@code time}, which the sink writes on every
 * row). Works on a table of the user's with only seed 004's columns too: what is missing is left
 * out of the JSON (see {@link ResultsSelect}). Following is {@link ResultsFollower}'s.
 */
final class PostgresResults implements Results {
  static final int PAGE = 10_000;

  private final PostgresConfig address;
  private final HikariDataSource pool;

  /** The select of every column, made once the table is there. */
  private ResultsSelect select;

  PostgresResults(PostgresConfig address) {
    this.address = address;
    this.pool = Database.pool(address, 1, "results");
  }

  /** The select of every column Conveyor reads; {@code null} while there is no table yet. */
  private ResultsSelect select(Connection c) throws SQLException {
    if (select == null) {
      select = ResultsSelect.of(c, address);
    }
    return select;
  }

  /** The select, on a connection of the pool; {@code null} while there is no table yet. */
  ResultsSelect select() throws SQLException {
    try (Connection c = pool.getConnection()) {
      return select(c);
    }
  }

  @Override
  public ClassifyResult get(String id) {
    try (Connection c = pool.getConnection()) {
      ResultsSelect select = select(c);
      if (select == null) {
        return null;
      }
      try (PreparedStatement st = c.prepareStatement(select.sql() + " WHERE image_key = ?")) {
        st.setString(select.prefix(st), id);
        try (ResultSet rs = st.executeQuery()) {
          return rs.next() ? select.result(rs) : null;
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
      ResultsSelect select = select(c);
      if (select == null) {
        return out;
      }
      try (PreparedStatement st = c.prepareStatement(select.sql() + " WHERE image_key = ANY(?)")) {
        st.setArray(select.prefix(st), c.createArrayOf("text", ids.toArray()));
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            out.add(select.result(rs));
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
      ResultsSelect select = select(c);
      if (select == null) {
        return;
      }
      // PostgreSQL keeps a cursor only inside a transaction
      Database.transaction(
          c,
          () -> {
            try (PreparedStatement st = c.prepareStatement(select.sql() + " ORDER BY image_key")) {
              select.prefix(st);
              st.setFetchSize(PAGE);
              try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                  json.accept(Json.write(select.result(rs)));
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
  record Row(Long micros, String key, String json) {}

  /**
   * Up to a page of rows stored after ({@code micros}, {@code key}), oldest first. The bound is
   * made in the column's own type, so the comparison uses its index and no client's time zone.
   */
  List<Row> storedAfter(long micros, String key) {
    List<Row> rows = new ArrayList<>();
    try (Connection c = pool.getConnection()) {
      ResultsSelect select = select(c);
      if (select == null) {
        return rows;
      }
      try (PreparedStatement st =
          c.prepareStatement(
              select.sql()
                  + " WHERE (time, image_key) > ("
                  + select.timeBound()
                  + ", ?) ORDER BY time, image_key LIMIT "
                  + PAGE)) {
        int i = select.prefix(st);
        st.setLong(i, micros);
        st.setString(i + 1, key);
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            rows.add(
                new Row(
                    (Long) rs.getObject("conveyor_micros"),
                    rs.getString("image_key"),
                    Json.write(select.result(rs))));
          }
        }
      }
    } catch (SQLException e) {
      throw Database.failed(address, "reading results", e);
    }
    return rows;
  }

  /**
   * Hands on rows stored from now on (by the database's clock), waking when a sink announces stored
   * results, and at least every half second. A row whose transaction took longer than {@link
   * ResultsFollower#OVERLAP_MS} to commit can be missed; rows are not handed on twice.
   */
  @Override
  public void follow(BooleanSupplier running, Consumer<String> json) {
    new ResultsFollower(address, this).follow(running, json);
  }

  @Override
  public void close() {
    pool.close();
  }
}
