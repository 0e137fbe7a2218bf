package dev.conveyor.jdbc;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Set;

/** The tables Conveyor makes when they are missing, and what it reads of tables it is given. */
final class Tables {
  private Tables() {}

  /** The channel producers notify when they add rows, so waiting workers poll at once. */
  static String queueChannel(String table) {
    return "conveyor_" + table.replace('.', '_') + "_added";
  }

  /** The channel sinks notify when they store results. */
  static String resultsChannel(String table) {
    return "conveyor_" + table.replace('.', '_') + "_stored";
  }

  /**
   * The work queue: one row per request, naming the model it asks for in {@code model} (null: the
   * default one). {@code state} is {@code queued} (waiting, or leased until {@code visible_at}) or
   * {@code dead}; a row is deleted once its result is stored. A queue made before it had {@code
   * model} gets the column, empty for the rows it holds.
   */
  static void createQueue(Connection c, String table) throws SQLException {
    // no DDL on a queue that has what it needs: even IF NOT EXISTS takes locks that wait behind
    // the workers' open transactions, and hold every worker and producer behind them meanwhile
    Set<String> present = columns(c, table);
    if (present.contains("model")) {
      return;
    }
    if (!present.isEmpty()) {
      create(c, table, "ALTER TABLE %s ADD COLUMN IF NOT EXISTS model TEXT".formatted(table));
      return;
    }
    create(
        c,
        table,
        """
          CREATE TABLE IF NOT EXISTS %1$s (
            seq          BIGSERIAL PRIMARY KEY,
            id           TEXT NOT NULL,
            source       TEXT,
            image        BYTEA,
            content_type TEXT,
            reply_to     TEXT,
            model        TEXT,
            state        TEXT NOT NULL DEFAULT 'queued',
            deliveries   INT NOT NULL DEFAULT 0,
            visible_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
            worker       TEXT,
            error        TEXT,
            created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
          )"""
            .formatted(table),
        "ALTER TABLE %s ADD COLUMN IF NOT EXISTS model TEXT".formatted(table),
        "CREATE INDEX IF NOT EXISTS %s ON %s (visible_at, seq) WHERE state = 'queued'"
            .formatted(indexName(table, "ready"), table));
  }

  /**
   * The results: seed 004's {@code prediction_results(image_key, category, confidence, hostname,
   * time)} and Conveyor's own columns, one row per request id.
   */
  static void createResults(Connection c, String table) throws SQLException {
    create(
        c,
        table,
        """
          CREATE TABLE IF NOT EXISTS %1$s (
            image_key   TEXT PRIMARY KEY,
            category    TEXT,
            confidence  REAL,
            hostname    TEXT,
            time        TIMESTAMPTZ NOT NULL DEFAULT now(),
            status      TEXT,
            error_code  TEXT,
            error       TEXT,
            model       TEXT,
            latency_ms  REAL,
            source      TEXT,
            predictions JSONB
          )"""
            .formatted(table),
        "CREATE INDEX IF NOT EXISTS %s ON %s (time)".formatted(indexName(table, "time"), table));
  }

  /**
   * Runs the statements that make a table in one transaction, under an advisory lock named after
   * the table: {@code CREATE TABLE IF NOT EXISTS} run by two workers at once can otherwise fail on
   * PostgreSQL's catalogue.
   */
  static void create(Connection c, String table, String... statements) throws SQLException {
    Database.transaction(
        c,
        () -> {
          try (PreparedStatement lock =
              c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
            lock.setString(1, "conveyor " + table);
            lock.execute();
          }
          try (Statement s = c.createStatement()) {
            for (String sql : statements) {
              s.execute(sql);
            }
          }
        });
  }

  private static String indexName(String table, String what) {
    return table.replace('.', '_') + "_" + what;
  }

  /** The columns a table has, in lower case; empty when there is no such table. */
  static Set<String> columns(Connection c, String table) throws SQLException {
    Name n = Name.of(table);
    Set<String> columns = new LinkedHashSet<>();
    DatabaseMetaData meta = c.getMetaData();
    try (ResultSet rs = meta.getColumns(null, n.schema(), n.name(), null)) {
      while (rs.next()) {
        columns.add(rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
      }
    }
    return columns;
  }

  /** The type of a table's column as the catalogue names it, in lower case; null when missing. */
  static String type(Connection c, String table, String column) throws SQLException {
    Name n = Name.of(table);
    try (ResultSet rs = c.getMetaData().getColumns(null, n.schema(), n.name(), column)) {
      return rs.next() ? rs.getString("TYPE_NAME").toLowerCase(Locale.ROOT) : null;
    }
  }

  /** Whether {@code column} alone is the table's primary key or a unique index. */
  static boolean unique(Connection c, String table, String column) throws SQLException {
    Name n = Name.of(table);
    java.util.Map<String, Set<String>> indexes = new java.util.HashMap<>();
    try (ResultSet rs = c.getMetaData().getIndexInfo(null, n.schema(), n.name(), true, false)) {
      while (rs.next()) {
        String index = rs.getString("INDEX_NAME");
        String col = rs.getString("COLUMN_NAME");
        if (index != null && col != null) {
          indexes
              .computeIfAbsent(index, k -> new LinkedHashSet<>())
              .add(col.toLowerCase(Locale.ROOT));
        }
      }
    }
    return indexes.values().stream().anyMatch(cols -> cols.equals(Set.of(column)));
  }

  /**
   * Deletes the rows {@code seqs} of {@code queue}, marking in {@code deleted} those still there.
   */
  static void deleteRows(Connection c, String queue, long[] seqs, boolean[] deleted)
      throws SQLException {
    java.util.Set<Long> gone = new java.util.HashSet<>();
    try (PreparedStatement st =
        c.prepareStatement("DELETE FROM %s WHERE seq = ANY(?) RETURNING seq".formatted(queue))) {
      st.setArray(1, c.createArrayOf("bigint", java.util.Arrays.stream(seqs).boxed().toArray()));
      try (java.sql.ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          gone.add(rs.getLong(1));
        }
      }
    }
    for (int k = 0; k < seqs.length; k++) {
      deleted[k] = gone.contains(seqs[k]);
    }
  }

  /** A table name as the catalogue keeps it: lower case, the schema apart ({@code null}: any). */
  private record Name(String schema, String name) {
    static Name of(String table) {
      String t = table.toLowerCase(Locale.ROOT);
      int dot = t.indexOf('.');
      return dot > 0 ? new Name(t.substring(0, dot), t.substring(dot + 1)) : new Name(null, t);
    }
  }
}
