package dev.conveyor.server;

import java.time.Duration;

/**
 * How the server listens and what it accepts.
 *
 * @param bind the address to listen on; localhost unless told otherwise
 * @param port the port; 0 for any free one
 * @param maxRequestBytes the largest request accepted (413 beyond)
 * @param resultTimeout how long a caller waits for its result (504 beyond)
 * @param token when set, every request but the health checks needs {@code Authorization: Bearer
 *     TOKEN} (401 without)
 */
public record ServerConfig(
    String bind, int port, long maxRequestBytes, Duration resultTimeout, String token) {
  public static ServerConfig defaults() {
    return new ServerConfig("127.0.0.1", 8080, 20L << 20, Duration.ofSeconds(30), null);
  }

  public ServerConfig withPort(int p) {
    return new ServerConfig(bind, p, maxRequestBytes, resultTimeout, token);
  }

  public ServerConfig withToken(String t) {
    return new ServerConfig(bind, port, maxRequestBytes, resultTimeout, t);
  }

  public ServerConfig withMaxRequestBytes(long n) {
    return new ServerConfig(bind, port, n, resultTimeout, token);
  }

  public ServerConfig withResultTimeout(Duration d) {
    return new ServerConfig(bind, port, maxRequestBytes, d, token);
  }

  public ServerConfig withBind(String host) {
    return new ServerConfig(host, port, maxRequestBytes, resultTimeout, token);
  }
}
