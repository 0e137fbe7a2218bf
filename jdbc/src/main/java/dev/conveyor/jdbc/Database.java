package dev.conveyor.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** Connections to one address: a small pool, and single connections for listening. */
final class Database {
  private Database() {}

  /** A pool of up to {@code size} connections; a broken one is replaced on its next use. */
  static HikariDataSource pool(PostgresAddress a, int size, String name) {
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
    c.addDataSourceProperty("ApplicationName", "conveyor " + name);
    return new HikariDataSource(c);
  }

  /** One connection of its own, for {@code LISTEN}. */
  static Connection connect(PostgresAddress a, String name) throws SQLException {
    Properties p = new Properties();
    p.setProperty("user", a.user());
    if (a.password() != null) {
      p.setProperty("password", a.password());
    }
    p.setProperty("ApplicationName", "conveyor " + name);
    p.setProperty("connectTimeout", "10");
    return DriverManager.getConnection(a.jdbcUrl(), p);
  }

  /** An SQL failure as Conveyor's error, naming the address but never its password. */
  static ConveyorException failed(PostgresAddress a, String what, SQLException e) {
    return new ConveyorException(
        ErrorCode.UNAVAILABLE,
        "%s on %s failed: %s".formatted(what, a.describe(), e.getMessage()),
        e);
  }
}
