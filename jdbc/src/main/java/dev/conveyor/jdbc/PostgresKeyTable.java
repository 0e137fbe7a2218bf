package dev.conveyor.jdbc;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.KeyTable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.function.Consumer;

/**
 * Keys in a table, as seed 004's producer reads {@code image_info(image_key)}: each key becomes a
 * request whose id is the key and whose reference is the key with {@code key-prefix} before it
 * ({@code s3://bucket/} + key), for workers to fetch. Read in one snapshot, streamed in pages, in
 * key order. The broker a {@code postgresql://…?table=image_info&column=image_key} address opens
 * offers it as its {@link dev.conveyor.core.transport.Broker#keys()}.
 */
final class PostgresKeyTable implements KeyTable {
  private final PostgresConfig address;

  PostgresKeyTable(PostgresConfig address) {
    this.address = address;
  }

  @Override
  public String describe() {
    return "%s %s.%s".formatted(address.describe(), address.table(), address.column());
  }

  @Override
  public long count(boolean onlyNew) {
    try (Connection c = Database.connect(address, "keys");
        PreparedStatement st =
            c.prepareStatement("SELECT count(*) FROM (" + query(c, onlyNew) + ") k");
        ResultSet rs = st.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw Database.failed(address, "counting keys in " + address.table(), e);
    }
  }

  /** With {@code onlyNew}, only keys that have no row in the results table yet. */
  @Override
  public long forEach(boolean onlyNew, Consumer<ImageRequest> requests) {
    long[] n = {0};
    try (Connection c = Database.connect(address, "keys")) {
      // a cursor, read in pages: PostgreSQL keeps one only inside a transaction
      Database.transaction(
          c,
          () -> {
            try (PreparedStatement st = c.prepareStatement(query(c, onlyNew))) {
              st.setFetchSize(1000);
              try (ResultSet rs = st.executeQuery()) {
                while (rs.next()) {
                  String key = rs.getString(1);
                  if (key == null || key.isBlank()) {
                    continue;
                  }
                  requests.accept(
                      new ImageRequest(
                          key, address.keyPrefix() + key, null, null, null, System.nanoTime()));
                  n[0]++;
                }
              }
            }
          });
      return n[0];
    } catch (SQLException e) {
      throw Database.failed(address, "reading keys from " + address.table(), e);
    }
  }

  /**
   * As seed 004's upload step does; a missing table is made as {@code (column TEXT PRIMARY KEY)}.
   */
  @Override
  public long insert(Collection<String> keys) {
    long[] added = {0};
    try (Connection c = Database.connect(address, "keys")) {
      String column = address.column();
      if (Tables.columns(c, address.table()).isEmpty()) {
        Tables.create(
            c,
            address.table(),
            "CREATE TABLE IF NOT EXISTS %s (%s TEXT PRIMARY KEY)"
                .formatted(address.table(), column));
      }
      boolean checkFirst = !Tables.unique(c, address.table(), column);
      String sql =
          checkFirst
              ? "INSERT INTO %1$s (%2$s) SELECT ? WHERE NOT EXISTS"
                  + " (SELECT 1 FROM %1$s WHERE %2$s = ?)"
              : "INSERT INTO %1$s (%2$s) VALUES (?) ON CONFLICT DO NOTHING";
      Database.transaction(
          c,
          () -> {
            try (PreparedStatement st =
                c.prepareStatement(sql.formatted(address.table(), column))) {
              for (String key : keys) {
                st.setString(1, key);
                if (checkFirst) {
                  st.setString(2, key);
                }
                st.addBatch();
              }
              for (int n : st.executeBatch()) {
                added[0] += Math.max(n, 0);
              }
            }
          });
      return added[0];
    } catch (SQLException e) {
      throw Database.failed(address, "adding keys to " + address.table(), e);
    }
  }

  private String query(Connection c, boolean onlyNew) throws SQLException {
    String column = address.column();
    String sql = "SELECT %1$s FROM %2$s".formatted(column, address.table());
    if (onlyNew && !Tables.columns(c, address.results()).isEmpty()) {
      sql +=
          " k WHERE NOT EXISTS (SELECT 1 FROM %s r WHERE r.image_key = k.%s)"
              .formatted(address.results(), column);
    }
    return sql + " ORDER BY 1";
  }
}
