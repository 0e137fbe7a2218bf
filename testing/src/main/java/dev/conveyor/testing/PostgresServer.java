package dev.conveyor.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real PostgreSQL server (Debian's {@code postgresql} package) on a free loopback port, from a
 * data folder of its own made with {@code initdb}: the user {@code conveyor}, trusted on loopback,
 * and a database {@code conveyor}; a user {@link #PASSWORD_USER}, once a test makes it, must give
 * its password (SCRAM). PostgreSQL will not run as root, so under root the server runs as the
 * package's {@code postgres} user ({@code setpriv}).
 */
public final class PostgresServer implements AutoCloseable {
  public static final String USER = "conveyor";

  /** A user that loopback does not trust: its connections need its password. */
  public static final String PASSWORD_USER = "keeper";

  private final Path dir;
  private final int port;
  private final Process process;

  private PostgresServer(Path dir, int port, Process process) {
    this.dir = dir;
    this.port = port;
    this.process = process;
  }

  /** The folder of PostgreSQL's programs: the newest under /usr/lib/postgresql. */
  private static Path bin() throws IOException {
    Path root = Path.of("/usr/lib/postgresql");
    if (Files.isDirectory(root)) {
      try (Stream<Path> versions = Files.list(root)) {
        return versions
            .map(v -> v.resolve("bin"))
            .filter(b -> Files.isExecutable(b.resolve("postgres")))
            .max(
                Comparator.comparing(
                    b ->
                        Integer.parseInt(
                            b.getParent().getFileName().toString().replaceAll("\\D", "0"))))
            .orElse(root.resolve("15/bin"));
      }
    }
    return root.resolve("15/bin");
  }

  public static PostgresServer start() throws IOException, InterruptedException, SQLException {
    return start(null);
  }

  /**
   * Starts a server that test hosts ({@link Hosts}) reach too: it also listens on {@code address}
   * (their gateway) and trusts its user from their addresses, for {@link #uriAt}.
   */
  public static PostgresServer start(String address)
      throws IOException, InterruptedException, SQLException {
    Path bin = bin();
    Requirements.executable(bin.resolve("postgres"), "apt-get install postgresql");
    // a folder of its own outside the test's (which only root can enter)
    Path dir = Files.createTempDirectory("conveyor-pg");
    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path data = Files.createDirectory(dir.resolve("data"));
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwx------"));
    List<String> as = new ArrayList<>();
    if ("root".equals(System.getProperty("user.name"))) {
      UserPrincipal postgres =
          dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
      Files.setOwner(data, postgres);
      as.addAll(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--clear-groups", "--"));
    }
    List<String> initdb = new ArrayList<>(as);
    initdb.addAll(
        List.of(
            bin.resolve("initdb").toString(),
            "-D",
            data.toString(),
            "-U",
            USER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--no-instructions"));
    Process init =
        new ProcessBuilder(initdb)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("initdb.log").toFile())
            .start();
    if (!init.waitFor(60, TimeUnit.SECONDS) || init.exitValue() != 0) {
      throw new IllegalStateException(
          "initdb failed: " + Files.readString(dir.resolve("initdb.log")));
    }
    Path hba = data.resolve("pg_hba.conf");
    Files.writeString(
        hba,
        "host all "
            + PASSWORD_USER
            + " 127.0.0.1/32 scram-sha-256\n"
            + Files.readString(hba)
            + (address == null
                ? ""
                : "host all " + USER + " " + address.replaceAll("\\.\\d+$", ".0") + "/24 trust\n"));
    int port = Ports.free();
    List<String> postgres = new ArrayList<>(as);
    postgres.addAll(
        List.of(
            bin.resolve("postgres").toString(),
            "-D",
            data.toString(),
            "-p",
            Integer.toString(port),
            "-c",
            "listen_addresses=127.0.0.1" + (address == null ? "" : "," + address),
            "-c",
            "unix_socket_directories=",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200"));
    Process p = TestProcesses.start(postgres, dir.resolve("postgres.log"));
    PostgresServer server = new PostgresServer(dir, port, p);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try (Connection c = server.connect("postgres");
          Statement s = c.createStatement()) {
        s.execute("CREATE DATABASE conveyor");
        return server;
      } catch (SQLException notYet) {
        if (!p.isAlive() || System.nanoTime() > deadline) {
          server.close();
          throw new IllegalStateException(
              "PostgreSQL did not start: " + Files.readString(dir.resolve("postgres.log")), notYet);
        }
        Thread.sleep(50);
      }
    }
  }

  public int port() {
    return port;
  }

  /** A URI of the {@code conveyor} database, with query settings such as {@code table=q}. */
  public String uri(String query) {
    return "postgresql://"
        + USER
        + "@127.0.0.1:"
        + port
        + "/conveyor"
        + (query.isEmpty() ? "" : "?" + query);
  }

  /** A URI of the {@code conveyor} database at {@code address}, where hosts reach it. */
  public String uriAt(String address, String query) {
    return uri(query).replace("@127.0.0.1:", "@" + address + ":");
  }

  public Connection connect() throws SQLException {
    return connect("conveyor");
  }

  private Connection connect(String database) throws SQLException {
    return DriverManager.getConnection(
        "jdbc:postgresql://127.0.0.1:" + port + "/" + database, USER, "");
  }

  @Override
  public void close() throws InterruptedException {
    // SIGINT: PostgreSQL's fast shutdown, which does not wait for clients to leave
    TestProcesses.stop(process, "INT", Duration.ofSeconds(20));
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path f : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(f);
      }
    } catch (IOException e) {
      // a temporary folder: left for the system to clear
    }
  }
}
