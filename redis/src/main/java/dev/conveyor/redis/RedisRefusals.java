package dev.conveyor.redis;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.util.Locale;
import javax.net.ssl.SSLException;

/**
 * A connection Redis refused, or that never reached it, as one line that says why and what to do:
 * Lettuce's exception carries a Java stack and, for a server in protected mode, its paragraph of
 * advice twice.
 */
final class RedisRefusals {
  private RedisRefusals() {}

  /** The failure to connect to {@code address} as Conveyor's error ({@code UNAVAILABLE}). */
  static ConveyorException of(RedisConfig address, RuntimeException e) {
    String at = address.uri().getHost() + ":" + address.uri().getPort();
    return new ConveyorException(ErrorCode.UNAVAILABLE, "Redis at " + at + ": " + reason(e), e);
  }

  /** Why, from the deepest cause that says something, with the fix. */
  static String reason(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String m = t.getMessage() == null ? "" : t.getMessage();
      String lower = m.toLowerCase(Locale.ROOT);
      if (lower.contains("protected mode")) {
        return "it runs in protected mode and takes connections from its own machine only; give"
            + " it a password (requirepass, then password-file=FILE or CONVEYOR_REDIS_PASSWORD"
            + " here), or run it with --protected-mode no behind a firewall";
      }
      if (lower.contains("wrongpass") || lower.contains("invalid password")) {
        return "it refused the user name or password; check password-file=FILE or"
            + " CONVEYOR_REDIS_PASSWORD (and the user in redis://USER@host)";
      }
      if (lower.contains("noauth") || lower.contains("authentication required")) {
        return "it needs a password; give it with password-file=FILE or CONVEYOR_REDIS_PASSWORD";
      }
      if (t instanceof UnknownHostException) {
        return "no such host; check the host name in the URI";
      }
      if (t instanceof ConnectException || lower.contains("connection refused")) {
        return "nothing answers there (connection refused); is Redis running, on that port?";
      }
      if (t instanceof SSLException) {
        return "the TLS handshake failed; check rediss:// against the server's tls-port, and"
            + " ca=FILE for its certificate";
      }
      if (lower.contains("timed out") || lower.contains("timeout")) {
        return "no answer within the connection timeout; check the host, the port and any"
            + " firewall between";
      }
    }
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    String m = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
    m = m.lines().findFirst().orElse("").strip();
    return "could not connect: " + (m.length() > 200 ? m.substring(0, 200) + "…" : m);
  }
}
