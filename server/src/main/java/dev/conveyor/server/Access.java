package dev.conveyor.server;

import io.javalin.Javalin;
import io.javalin.http.Handler;
import io.javalin.security.RouteRole;

/**
 * Who may call a route, given when the route is registered. A route without {@link #PUBLIC} needs
 * the token when the server has one ({@link TokenAuth}): the API is closed by default, and opening
 * a route is a choice written where the route is.
 */
enum Access implements RouteRole {
  /** Anyone: the page, its files, the health checks and {@code /v1/info}. */
  PUBLIC;

  /**
   * Registers a public GET route and the same for HEAD: for a HEAD without a route of its own,
   * Javalin answers from the GET route but checks the static files' roles, so it would need the
   * token.
   */
  static void publicGet(Javalin app, String path, Handler handler) {
    app.get(path, handler, PUBLIC);
    app.head(path, handler, PUBLIC);
  }
}
