package dev.conveyor.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * The offsets table ({@code offsets}, made when missing): for each consumer group, topic and
 * partition, the offset of the next record to read. A worker storing results exactly once moves it
 * in the transaction that stores the results of the records before it, and only from where its
 * batch began: a worker whose partition was given to another, which stored it first, moves nothing.
 */
final class PostgresPositions {
  private final String table;
  private volatile boolean made;

  PostgresPositions(String table) {
    this.table = table;
  }

  /** Whether the table was made (or found) already by this sink. */
  boolean made() {
    return made;
  }

  /** Makes the table when missing, once per sink. */
  void ensure(Connection c) throws SQLException {
    if (!made) {
      Tables.create(
          c,
          table,
          """
            CREATE TABLE IF NOT EXISTS %s (
              consumer_group   TEXT NOT NULL,
              topic            TEXT NOT NULL,
              partition_number INT NOT NULL,
              next_offset      BIGINT NOT NULL,
              updated          TIMESTAMPTZ NOT NULL DEFAULT now(),
              PRIMARY KEY (consumer_group, topic, partition_number)
            )"""
              .formatted(table));
      made = true;
    }
  }

  /** The next offset of each partition of {@code topic} that {@code group} has one for. */
  Map<Integer, Long> read(Connection c, String group, String topic) throws SQLException {
    Map<Integer, Long> at = new HashMap<>();
    try (PreparedStatement st =
        c.prepareStatement(
            "SELECT partition_number, next_offset FROM %s WHERE consumer_group = ? AND topic = ?"
                .formatted(table))) {
      st.setString(1, group);
      st.setString(2, topic);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          at.put(rs.getInt(1), rs.getLong(2));
        }
      }
    }
    return at;
  }

  /**
   * In the caller's transaction: moves each partition from {@code from} to {@code to} (in partition
   * order, so that two transactions lock rows in the same order), or gives one its first offset.
   *
   * @return whether every partition was at {@code from} (or had none) and moved
   */
  boolean move(
      Connection c, String group, String topic, Map<Integer, Long> from, Map<Integer, Long> to)
      throws SQLException {
    try (PreparedStatement st =
        c.prepareStatement(
            """
            INSERT INTO %1$s AS o (consumer_group, topic, partition_number, next_offset)
            VALUES (?, ?, ?, ?)
            ON CONFLICT (consumer_group, topic, partition_number)
            DO UPDATE SET next_offset = EXCLUDED.next_offset, updated = now()
            WHERE o.next_offset = ?"""
                .formatted(table))) {
      for (Map.Entry<Integer, Long> e : new TreeMap<>(to).entrySet()) {
        st.setString(1, group);
        st.setString(2, topic);
        st.setInt(3, e.getKey());
        st.setLong(4, e.getValue());
        st.setLong(5, from.get(e.getKey()));
        st.addBatch();
      }
      for (int moved : st.executeBatch()) {
        if (moved != 1) {
          return false;
        }
      }
    }
    return true;
  }
}
