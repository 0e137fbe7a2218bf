package dev.conveyor.redis;

import dev.conveyor.core.testing.Requirements;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real redis-server (Debian's package) on a free loopback port, with its files in a folder of the
 * test's. It can be restarted on the same port and folder, with its append-only file on.
 */
public final class RedisServer implements AutoCloseable {
  private static final Path BINARY = Path.of("/usr/bin/redis-server");
  private final Path dir;
  private final int port;
  private final boolean appendOnly;
  private Process process;

  private RedisServer(Path dir, int port, boolean appendOnly) {
    this.dir = dir;
    this.port = port;
    this.appendOnly = appendOnly;
  }

  public static RedisServer start(Path dir, boolean appendOnly)
      throws IOException, InterruptedException {
    Requirements.executable(BINARY, "apt-get install redis-server");
    RedisServer server = new RedisServer(dir, freePort(), appendOnly);
    server.launch();
    return server;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private void launch() throws IOException, InterruptedException {
    List<String> command =
        new ArrayList<>(
            List.of(BINARY.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1"));
    command.addAll(
        List.of(
            "--dir", dir.toString(), "--save", "", "--daemonize", "no", "--protected-mode", "no"));
    command.addAll(List.of("--appendonly", appendOnly ? "yes" : "no", "--appendfsync", "always"));
    process =
        new ProcessBuilder(command)
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("redis.log").toFile())
            .start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket("127.0.0.1", port)) {
        return;
      } catch (IOException notYet) {
        Thread.sleep(20);
      }
    }
    throw new IllegalStateException(
        "redis-server did not start on port " + port + "; see " + dir.resolve("redis.log"));
  }

  public int port() {
    return port;
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
      p.destroyForcibly();
      throw new IllegalStateException("redis-cli " + String.join(" ", command) + " hung");
    }
    return out.lines().toList();
  }

  /** Stops Redis as a restart does (it writes its append-only file), then starts it again. */
  public void restart() throws IOException, InterruptedException {
    restartAfter(java.time.Duration.ZERO);
  }

  /** Like {@link #restart()}, with Redis down for {@code down} in between. */
  void restartAfter(java.time.Duration down) throws IOException, InterruptedException {
    stop();
    Thread.sleep(down.toMillis());
    launch();
  }

  boolean running() {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private void stop() throws InterruptedException {
    process.destroy();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
    }
  }

  @Override
  public void close() throws InterruptedException {
    stop();
  }
}
