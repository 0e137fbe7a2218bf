package dev.conveyor.server;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Deny by default: with a token set, every request the router matches needs {@code Authorization:
 * Bearer TOKEN}, unless what matched was registered {@link Access#PUBLIC} (a route, or the static
 * files). It runs as a {@code beforeMatched} handler, so "public" is decided by the route Javalin
 * picked for this request, with its trailing-slash and path rules, not by comparing paths again.
 */
final class TokenAuth {
  private static final String SCHEME = "Bearer ";

  private final byte[] expected;

  private TokenAuth(String token) {
    this.expected = sha256(token);
  }

  /** Checks every matched request against {@code token}; does nothing when it is null. */
  static void register(Javalin app, String token) {
    if (token != null) {
      app.beforeMatched(new TokenAuth(token)::check);
    }
  }

  private void check(Context ctx) {
    if (ctx.routeRoles().contains(Access.PUBLIC)) {
      return;
    }
    String header = ctx.header("Authorization");
    boolean bearer = header != null && header.regionMatches(true, 0, SCHEME, 0, SCHEME.length());
    byte[] given = sha256(bearer ? header.substring(SCHEME.length()).trim() : "");
    // digests of equal length, compared in constant time: the answer's timing says nothing
    if (!MessageDigest.isEqual(given, expected) || !bearer) {
      throw new ConveyorException(
          ErrorCode.UNAUTHORIZED, "this server needs 'Authorization: Bearer TOKEN'");
    }
  }

  private static byte[] sha256(String s) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }
}
