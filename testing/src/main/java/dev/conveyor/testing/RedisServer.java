package dev.conveyor.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real redis-server (Debian's package) on a free loopback port, with its files in a folder of the
 * test's. It can be restarted on the same port and folder, with its append-only file on, and killed
 * with SIGKILL. It can also listen for TLS on a second port, and have an ACL user.
 */
public final class RedisServer implements AutoCloseable {
  private static final Path BINARY = Path.of("/usr/bin/redis-server");
  private final Path dir;
  private final int port;
  private final Options options;
  private final int tlsPort;
  private Process process;

  /**
   * How the server runs.
   *
   * @param appendFsync with the append-only file: {@code always} or {@code everysec}; {@code null}
   *     for no append-only file
   * @param tls the certificate and key of a TLS port beside the plain one, or {@code null}
   * @param acl a user and its rules ({@code conveyor on >secret ~conveyor:* …}), or {@code null}
   * @param bind an address to listen on besides loopback (a test host's gateway), or {@code null}
   */
  public record Options(String appendFsync, TestTls tls, List<String> acl, String bind) {
    public static Options plain() {
      return new Options(null, null, null, null);
    }

    public Options appendOnly(String fsync) {
      return new Options(fsync, tls, acl, bind);
    }

    public Options withTls(TestTls t) {
      return new Options(appendFsync, t, acl, bind);
    }

    public Options withUser(String... rules) {
      return new Options(appendFsync, tls, List.of(rules), bind);
    }

    /** Listening on {@code address} too: the gateway of {@link Hosts}, say. */
    public Options alsoOn(String address) {
      return new Options(appendFsync, tls, acl, address);
    }
  }

  /**
   * docs/brokers.md's ACL for Conveyor's user {@code conveyor}: its keys and channels ({@code
   * conveyor:*}), and only the commands Conveyor runs.
   */
  public static String[] conveyorUser(String password) {
    return ("conveyor on >"
            + password
            + " resetkeys ~conveyor:* resetchannels &conveyor:* -@all"
            + " +lmove +blmove +lrem +lrange +llen +rpush +lpush +blpop +hincrby +hdel +set +get"
            + " +exists +del +expire +type +scan +eval +xadd +xgroup|create +xinfo|groups +xlen"
            + " +xautoclaim +xclaim +xreadgroup +xpending +xack +xread +xrange +publish +subscribe"
            + " +ping")
        .split(" ");
  }

  private RedisServer(Path dir, int port, Options options, int tlsPort) {
    this.dir = dir;
    this.port = port;
    this.options = options;
    this.tlsPort = tlsPort;
  }

  public static RedisServer start(Path dir, boolean appendOnly)
      throws IOException, InterruptedException {
    return start(dir, appendOnly ? Options.plain().appendOnly("always") : Options.plain());
  }

  public static RedisServer start(Path dir, Options options)
      throws IOException, InterruptedException {
    Requirements.executable(BINARY, "apt-get install redis-server");
    RedisServer server =
        new RedisServer(dir, Ports.free(), options, options.tls() == null ? 0 : Ports.free());
    server.launch();
    return server;
  }

  /** The TLS port, when the server has one. */
  public int tlsPort() {
    return tlsPort;
  }

  private void launch() throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(BINARY.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1"));
    if (options.bind() != null) {
      command.add(options.bind());
    }
    command.addAll(
        List.of(
            "--dir", dir.toString(), "--save", "", "--daemonize", "no", "--protected-mode", "no"));
    boolean appendOnly = options.appendFsync() != null;
    command.addAll(
        List.of(
            "--appendonly",
            appendOnly ? "yes" : "no",
            "--appendfsync",
            appendOnly ? options.appendFsync() : "always"));
    if (options.tls() != null) {
      command.addAll(
          List.of(
              "--tls-port",
              Integer.toString(tlsPort),
              "--tls-cert-file",
              options.tls().certificate().toString(),
              "--tls-key-file",
              options.tls().key().toString(),
              "--tls-ca-cert-file",
              options.tls().certificate().toString(),
              "--tls-auth-clients",
              "no"));
    }
    if (options.acl() != null) {
      command.add("--user");
      command.addAll(options.acl());
    }
    process = TestProcesses.start(command, dir.resolve("redis.log"));
    if (Ports.awaitListening(process, port, Duration.ofSeconds(10))) {
      return;
    }
    TestProcesses.kill(process);
    throw new IllegalStateException(
        "redis-server did not start on port " + port + "; see " + dir.resolve("redis.log"));
  }

  public int port() {
    return port;
  }

  /** A Redis URI for this server at {@code address} (one it also listens on), with settings. */
  public String uriAt(String address, String query) {
    return "redis://" + address + ":" + port + (query.isEmpty() ? "" : "?" + query);
  }

  /** A Redis URI for this server, with query settings such as {@code mode=stream}. */
  public String uri(String query) {
    return "redis://127.0.0.1:" + port + (query.isEmpty() ? "" : "?" + query);
  }

  /**
   * Runs one command through Debian's {@code redis-cli} (a client that is not Conveyor's); its raw
   * output lines.
   */
  public List<String> cli(String... command) throws IOException, InterruptedException {
    List<String> args =
        new ArrayList<>(List.of("redis-cli", "--raw", "-p", Integer.toString(port)));
    args.addAll(List.of(command));
    Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      TestProcesses.kill(p);
      throw new IllegalStateException("redis-cli " + String.join(" ", command) + " hung");
    }
    return out.lines().toList();
  }

  /** Stops Redis as a restart does (it writes its append-only file), then starts it again. */
  public void restart() throws IOException, InterruptedException {
    restartAfter(Duration.ZERO);
  }

  /** Like {@link #restart()}, with Redis down for {@code down} in between. */
  public void restartAfter(Duration down) throws IOException, InterruptedException {
    stop();
    Thread.sleep(down.toMillis());
    launch();
  }

  /** Whether the server accepts connections on its port. */
  public boolean running() {
    return Ports.listening(port);
  }

  /** Kills the server with SIGKILL: no shutdown, nothing more written. */
  public void kill() throws InterruptedException {
    TestProcesses.kill(process);
  }

  /** Starts the server again, on the same port and folder, after {@link #kill()}. */
  public void launchAgain() throws IOException, InterruptedException {
    launch();
  }

  private void stop() throws InterruptedException {
    TestProcesses.stop(process, Duration.ofSeconds(10));
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }

  /** How many entries a stream holds ({@code XLEN}); 0 for none. */
  public long length(String stream) {
    try {
      return Long.parseLong(cli("XLEN", stream).get(0).trim());
    } catch (IOException | InterruptedException e) {
      throw new IllegalStateException(e);
    }
  }

  /** How many entries each request id has in a results stream (its entries' {@code id} field). */
  public java.util.Map<String, Integer> idsIn(String stream)
      throws IOException, InterruptedException {
    java.util.Map<String, Integer> out = new java.util.HashMap<>();
    List<String> lines = cli("XRANGE", stream, "-", "+");
    for (int i = 0; i + 1 < lines.size(); i++) {
      if (lines.get(i).equals("id")) {
        out.merge(lines.get(i + 1), 1, Integer::sum);
      }
    }
    return out;
  }

  /** How many scripts the server has run ({@code EVAL} and {@code EVALSHA} calls). */
  public long scriptCalls() throws IOException, InterruptedException {
    long calls = 0;
    for (String line : cli("INFO", "commandstats")) {
      if (line.startsWith("cmdstat_eval:") || line.startsWith("cmdstat_evalsha:")) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("calls=(\\d+)").matcher(line);
        if (m.find()) {
          calls += Long.parseLong(m.group(1));
        }
      }
    }
    return calls;
  }
}
