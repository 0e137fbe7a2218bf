package dev.conveyor.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.sql.Statement;
import java.util.Properties;

/** Connections to one address: a small pool, and single connections for listening. */
final class Database {
  private Database() {}

  /** A pool of up to {@code size} connections; a broken one is replaced on its next use. */
  static HikariDataSource pool(PostgresConfig a, int size, String name) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(a.jdbcUrl());
    c.setUsername(a.user());
    c.setPassword(a.password());
    c.setMaximumPoolSize(size);
    c.setMinimumIdle(1);
    c.setPoolName("conveyor-" + name);
    c.setConnectionTimeout(10_000);
    // fail at the first use rather than at open: a worker may start before its database
    c.setInitializationFailTimeout(-1);
    c.addDataSourceProperty("reWriteBatchedInserts", "true");
    c.addDataSourceProperty("socketTimeout", Long.toString(a.socketTimeout().toSeconds()));
    // a time written into a column without a time zone (seed 004's time) is UTC on every host
    c.setConnectionInitSql("SET TIME ZONE 'UTC'");
    c.addDataSourceProperty("ApplicationName", "conveyor " + name);
    return new HikariDataSource(c);
  }

  /** One connection of its own, for {@code LISTEN}. */
  static Connection connect(PostgresConfig a, String name) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", a.user());
    if (a.password() != null) {
      p.setProperty("password", a.password());
    }
    p.setProperty("ApplicationName", "conveyor " + name);
    p.setProperty("connectTimeout", "10");
    p.setProperty("socketTimeout", Long.toString(a.socketTimeout().toSeconds()));
    return DriverManager.getConnection(a.jdbcUrl(), p);
  }

  /** Work on one connection that may throw an SQL failure. */
  interface Work {
    void run() throws SQLException;
  }

  /**
   * Runs {@code work} as one transaction on {@code c}: committed when it returns, rolled back when
   * it throws; the connection is back in auto-commit either way.
   */
  static void transaction(Connection c, Work work) throws SQLException {
    c.setAutoCommit(false);
    try {
      work.run();
      c.commit();
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException broken) {
        e.addSuppressed(broken);
      }
      throw e;
    } finally {
      try {
        c.setAutoCommit(true);
      } catch (SQLException broken) {
        // a broken connection: its owner replaces it
      }
    }
  }

  /** Wakes whoever {@code LISTEN}s on the channel, when the transaction commits. */
  static void notify(Connection c, String channel) throws SQLException {
    try (Statement s = c.createStatement()) {
      s.execute("NOTIFY " + channel);
    }
  }

  /** Closes a connection that may be broken already; {@code null} is fine. */
  static void close(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // already broken
      }
    }
  }

  /** An SQL failure as Conveyor's error, naming the address but never its password. */
  static ConveyorException failed(PostgresConfig a, String what, SQLException e) {
    return new ConveyorException(
        ErrorCode.UNAVAILABLE, "%s on %s failed: %s".formatted(what, a.describe(), why(e)), e);
  }

  /**
   * What went wrong, in the driver's words: a pool that timed out waiting for a connection says
   * only that, and keeps the reason (refused, no such database, wrong password) as its cause.
   */
  static String why(SQLException e) {
    if (e instanceof SQLTransientConnectionException
        && e.getCause() instanceof SQLException cause
        && cause.getMessage() != null) {
      return cause.getMessage();
    }
    return e.getMessage();
  }
}
