package dev.conveyor.jdbc;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
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
   * The work queue: one row per request. {@code state} is {@code queued} (waiting, or leased until
   * {@code visible_at}) or {@code dead}; a row is deleted once its result is stored.
   */
  static void createQueue(Connection c, String table) throws SQLException {
    try (Statement s = locked(c, table)) {
      s.execute(
          """
          CREATE TABLE IF NOT EXISTS %1$s (
            seq          BIGSERIAL PRIMARY KEY,
            id           TEXT NOT NULL,
            source       TEXT,
            image        BYTEA,
            content_type TEXT,
            reply_to     TEXT,
            state        TEXT NOT NULL DEFAULT 'queued',
            deliveries   INT NOT NULL DEFAULT 0,
            visible_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
            worker       TEXT,
            error        TEXT,
            created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
          )"""
              .formatted(table));
      s.execute(
          "CREATE INDEX IF NOT EXISTS %s ON %s (visible_at, seq) WHERE state = 'queued'"
              .formatted(indexName(table, "ready"), table));
      done(c);
    } catch (SQLException e) {
      undo(c);
      throw e;
    }
  }

  /**
   * The results: seed 004's {@code prediction_results(image_key, category, confidence, hostname,
   * time)} and Conveyor's own columns, one row per request id.
   */
  static void createResults(Connection c, String table) throws SQLException {
    try (Statement s = locked(c, table)) {
      s.execute(
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
              .formatted(table));
      s.execute(
          "CREATE INDEX IF NOT EXISTS %s ON %s (time)".formatted(indexName(table, "time"), table));
      done(c);
    } catch (SQLException e) {
      undo(c);
      throw e;
    }
  }

  /**
   * A transaction holding an advisory lock named after the table: {@code CREATE TABLE IF NOT
   * EXISTS} run by two workers at once can otherwise fail on PostgreSQL's catalogue.
   */
  private static Statement locked(Connection c, String table) throws SQLException {
    c.setAutoCommit(false);
    Statement s = c.createStatement();
    try (java.sql.PreparedStatement lock =
        c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?))")) {
      lock.setString(1, "conveyor " + table);
      lock.execute();
    } catch (SQLException e) {
      s.close();
      throw e;
    }
    return s;
  }

  private static void done(Connection c) throws SQLException {
    c.commit();
    c.setAutoCommit(true);
  }

  private static void undo(Connection c) {
    try {
      c.rollback();
      c.setAutoCommit(true);
    } catch (SQLException ignored) {
      // the connection is broken: its owner replaces it
    }
  }

  private static String indexName(String table, String what) {
    return table.replace('.', '_') + "_" + what;
  }

  /** The columns a table has, in lower case; empty when there is no such table. */
  static Set<String> columns(Connection c, String table) throws SQLException {
    String schema = null;
    String name = table;
    int dot = table.indexOf('.');
    if (dot > 0) {
      schema = table.substring(0, dot).toLowerCase(Locale.ROOT);
      name = table.substring(dot + 1);
    }
    Set<String> columns = new LinkedHashSet<>();
    DatabaseMetaData meta = c.getMetaData();
    try (ResultSet rs = meta.getColumns(null, schema, name.toLowerCase(Locale.ROOT), null)) {
      while (rs.next()) {
        columns.add(rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
      }
    }
    return columns;
  }

  /** Whether {@code column} alone is the table's primary key or a unique index. */
  static boolean unique(Connection c, String table, String column) throws SQLException {
    String schema = null;
    String name = table;
    int dot = table.indexOf('.');
    if (dot > 0) {
      schema = table.substring(0, dot).toLowerCase(Locale.ROOT);
      name = table.substring(dot + 1);
    }
    java.util.Map<String, Set<String>> indexes = new java.util.HashMap<>();
    try (ResultSet rs =
        c.getMetaData().getIndexInfo(null, schema, name.toLowerCase(Locale.ROOT), true, false)) {
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
}
