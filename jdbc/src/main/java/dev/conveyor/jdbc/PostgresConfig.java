package dev.conveyor.jdbc;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.BrokerUri;
import dev.conveyor.core.settings.SecretFiles;
import dev.conveyor.core.settings.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Where and how Conveyor uses PostgreSQL, from a URI: {@code
 * postgresql://[user[:password]@]host[:port]/database?table=…&results=…}. A user or password left
 * out comes from libpq's environment ({@code PGUSER}, {@code PGPASSWORD}), as {@code psql} takes
 * them; a password also from {@code password-file}, or the driver's {@code ~/.pgpass}. The query's
 * settings are declared in {@link PostgresSettings}.
 */
record PostgresConfig(
    String host,
    int port,
    String database,
    String user,
    String password,
    String table,
    String results,
    String offsets,
    String column,
    String keyPrefix,
    Duration lease,
    Duration socketTimeout,
    int maxDeliveries,
    long maxLength,
    int pool,
    boolean exactlyOnce) {

  /** What PostgreSQL URIs look like. */
  static final BrokerUri.Kind KIND =
      new BrokerUri.Kind(
          "PostgreSQL",
          List.of("postgresql", "postgres"),
          "postgresql://user@host:5432/database?table=…",
          PostgresSettings.ALL);

  static boolean handles(String uri) {
    return KIND.handles(uri);
  }

  static PostgresConfig parse(String text, Map<String, String> overrides) {
    return parse(text, overrides, System.getenv());
  }

  /** The same, a user or password the URI leaves out coming from {@code environment}. */
  static PostgresConfig parse(
      String text, Map<String, String> overrides, Map<String, String> environment) {
    BrokerUri uri = BrokerUri.parse(text, KIND, Map.of(), overrides);
    Settings s = uri.settings();
    String database = uri.path();
    if (database.isEmpty() || database.contains("/")) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "a PostgreSQL URI names a host and a database: postgresql://user@host:5432/database");
    }
    String user = uri.user() != null ? uri.user() : environment.get("PGUSER");
    if (user == null) {
      user = System.getProperty("user.name");
    }
    String password = uri.password();
    password = password(password, s.get(PostgresSettings.PASSWORD_FILE), environment);
    return new PostgresConfig(
        uri.host(),
        uri.port(5432),
        database,
        user,
        password,
        s.get(PostgresSettings.TABLE),
        s.get(PostgresSettings.RESULTS),
        s.get(PostgresSettings.OFFSETS),
        s.get(PostgresSettings.COLUMN),
        s.get(PostgresSettings.KEY_PREFIX),
        s.get(PostgresSettings.LEASE),
        s.get(PostgresSettings.SOCKET_TIMEOUT),
        s.get(PostgresSettings.MAX_DELIVERIES),
        s.get(PostgresSettings.MAX_LENGTH),
        s.get(PostgresSettings.POOL),
        s.get(PostgresSettings.DELIVERY).equals("exactly-once"));
  }

  /**
   * The password: the URI's, else the first line of {@code password-file}, else {@code PGPASSWORD};
   * {@code null} leaves it to the driver, which looks in {@code ~/.pgpass} (or {@code PGPASSFILE}).
   *
   * @throws ConveyorException {@code INVALID_SETTING} for a file that cannot be read or is empty,
   *     or for a password both in the URI and in a file; never with the password in it
   */
  private static String password(String inline, Path file, Map<String, String> environment) {
    if (inline != null && file != null) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "the PostgreSQL URI has a password and a password-file: give one (the file keeps it out of ps)");
    }
    if (inline != null) {
      return inline;
    }
    if (file != null) {
      return SecretFiles.firstLine(file, "the PostgreSQL URI's password-file");
    }
    String variable = environment.get("PGPASSWORD");
    return variable == null || variable.isEmpty() ? null : variable;
  }

  String jdbcUrl() {
    return "jdbc:postgresql://%s:%d/%s".formatted(host, port, database);
  }

  /** The address without its password, for logs and people. */
  String describe() {
    return "postgresql://%s@%s:%d/%s".formatted(user, host, port, database);
  }

  @Override
  public String toString() {
    return describe();
  }
}
