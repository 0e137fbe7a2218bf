package dev.conveyor.server;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How the server listens and what it accepts, as {@link ServerSettings#config} reads it from the
 * settings ({@link ServerSettings#defaults()}: each at its default).
 *
 * @param bind the address to listen on; localhost unless told otherwise
 * @param port the port; 0 for any free one
 * @param maxRequestBytes the largest request accepted (413 beyond)
 * @param resultTimeout how long a caller waits for its result (504 beyond)
 * @param token when set, every route not registered as public needs {@code Authorization: Bearer
 *     TOKEN} (401 without); the page, its files, {@code /v1/info} and the health checks are public
 * @param jobCapacity the most asynchronous jobs kept at once (429 beyond, while all are running)
 * @param jobExpiry how long a finished job's result is kept after the job was made
 * @param tls the certificate and key to serve HTTPS with, or {@code null} for plain HTTP
 * @param allowedHosts the host names requests may name (421 for others; {@code *} for any), or
 *     {@code null} for the default: the loopback names when bound to a loopback address, else any
 * @param minDataRate the fewest bytes a second a request body may arrive at before the request is
 *     refused (400); 0 for no limit
 */
public record ServerConfig(
    String bind,
    int port,
    long maxRequestBytes,
    Duration resultTimeout,
    String token,
    int jobCapacity,
    Duration jobExpiry,
    Tls tls,
    List<String> allowedHosts,
    long minDataRate) {

  /**
   * HTTPS: a PEM certificate (its chain, the server's first) and its PEM private key.
   *
   * @param certificate the certificate file
   * @param key the private key file, unencrypted (PKCS#8 or PKCS#1)
   */
  public record Tls(Path certificate, Path key) {}

  public ServerConfig {
    if (token != null && token.isBlank()) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "the token must not be blank");
    }
    if (jobCapacity < 1) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "job capacity must be at least 1, not " + jobCapacity);
    }
    if (jobExpiry == null || jobExpiry.isNegative() || jobExpiry.isZero()) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "job expiry must be a positive duration, not " + jobExpiry);
    }
    if (allowedHosts != null) {
      allowedHosts = List.copyOf(allowedHosts);
      if (allowedHosts.isEmpty() || !allowedHosts.stream().allMatch(AllowedHosts::isName)) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "allowed hosts are host names or addresses without ports, or *");
      }
    }
    if (minDataRate < 0) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "the minimum data rate must be 0 or more, not " + minDataRate);
    }
  }

  public ServerConfig withPort(int p) {
    return new ServerConfig(
        bind,
        p,
        maxRequestBytes,
        resultTimeout,
        token,
        jobCapacity,
        jobExpiry,
        tls,
        allowedHosts,
        minDataRate);
  }

  public ServerConfig withToken(String t) {
    return new ServerConfig(
        bind,
        port,
        maxRequestBytes,
        resultTimeout,
        t,
        jobCapacity,
        jobExpiry,
        tls,
        allowedHosts,
        minDataRate);
  }

  public ServerConfig withMaxRequestBytes(long n) {
    return new ServerConfig(
        bind,
        port,
        n,
        resultTimeout,
        token,
        jobCapacity,
        jobExpiry,
        tls,
        allowedHosts,
        minDataRate);
  }

  public ServerConfig withResultTimeout(Duration d) {
    return new ServerConfig(
        bind,
        port,
        maxRequestBytes,
        d,
        token,
        jobCapacity,
        jobExpiry,
        tls,
        allowedHosts,
        minDataRate);
  }

  public ServerConfig withBind(String host) {
    return new ServerConfig(
        host,
        port,
        maxRequestBytes,
        resultTimeout,
        token,
        jobCapacity,
        jobExpiry,
        tls,
        allowedHosts,
        minDataRate);
  }

  public ServerConfig withJobCapacity(int n) {
    return new ServerConfig(
        bind,
        port,
        maxRequestBytes,
        resultTimeout,
        token,
        n,
        jobExpiry,
        tls,
        allowedHosts,
        minDataRate);
  }

  /** Serves HTTPS with this certificate and key; {@code null} for plain HTTP. */
  public ServerConfig withTls(Tls t) {
    return new ServerConfig(
        bind,
        port,
        maxRequestBytes,
        resultTimeout,
        token,
        jobCapacity,
        jobExpiry,
        t,
        allowedHosts,
        minDataRate);
  }

  /** Answers requests that name these hosts only ({@code *}: any); {@code null} for the default. */
  public ServerConfig withAllowedHosts(List<String> hosts) {
    return new ServerConfig(
        bind,
        port,
        maxRequestBytes,
        resultTimeout,
        token,
        jobCapacity,
        jobExpiry,
        tls,
        hosts,
        minDataRate);
  }

  /** Refuses a request whose body arrives slower than this, in bytes a second; 0 for never. */
  public ServerConfig withMinDataRate(long bytesPerSecond) {
    return new ServerConfig(
        bind,
        port,
        maxRequestBytes,
        resultTimeout,
        token,
        jobCapacity,
        jobExpiry,
        tls,
        allowedHosts,
        bytesPerSecond);
  }

  public ServerConfig withJobExpiry(Duration d) {
    return new ServerConfig(
        bind,
        port,
        maxRequestBytes,
        resultTimeout,
        token,
        jobCapacity,
        d,
        tls,
        allowedHosts,
        minDataRate);
  }
}
