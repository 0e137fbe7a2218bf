package dev.conveyor.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import io.javalin.Javalin;
import io.javalin.http.Context;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.eclipse.jetty.http.BadMessageException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every failure in a handler into JSON with the status {@link HttpStatus#of} gives its code:
 * {@code {"success":false,"error":{"code","message"}}}, or KServe's {@code {"error":"…"}} under
 * {@code /v2/models}. Jetty's refusal of a request it cannot read (a body slower than the minimum
 * data rate) is {@code BAD_REQUEST}. Any other failure that is not a {@link ConveyorException} is a
 * bug: it is logged and answered as {@code INTERNAL} without its details.
 */
final class HttpErrors {
  private static final Logger LOG = LoggerFactory.getLogger(HttpErrors.class);

  private HttpErrors() {}

  /** Answers Conveyor's failures, and any other exception, as the JSON errors above. */
  static void register(Javalin app) {
    // Javalin picks the handler of the nearest class: its own HTTP responses (404, 405) keep theirs
    app.exception(Exception.class, HttpErrors::answer);
  }

  /** The failure of an error result, to be answered with its code's status. */
  static ConveyorException fromResult(ClassifyResult r) {
    return new ConveyorException(r.error().code(), r.error().message());
  }

  /** Answers {@code failure}, unwrapped from the futures it may have come through. */
  static void answer(Throwable failure, Context ctx) {
    Throwable t = failure;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    ConveyorException e;
    if (t instanceof ConveyorException known) {
      e = known;
    } else if (t instanceof BadMessageException bad) {
      e = unreadable(bad);
    } else {
      LOG.error("{} {} failed", ctx.method(), ctx.path(), t);
      e =
          new ConveyorException(
              ErrorCode.INTERNAL, "an unexpected error; the server's log says more");
    }
    ctx.status(HttpStatus.of(e.code()));
    if (e.code() == ErrorCode.BUSY) {
      ctx.header("Retry-After", "1");
    } else if (e.code() == ErrorCode.UNAVAILABLE || e.code() == ErrorCode.TIMEOUT) {
      // the broker or the workers are away for now: try again, not at once
      ctx.header("Retry-After", "5");
    } else if (e.code() == ErrorCode.UNAUTHORIZED) {
      ctx.header("WWW-Authenticate", "Bearer");
    }
    ctx.json(body(ctx.path(), e.code().name(), e.getMessage()));
  }

  /**
   * An error's JSON for a request to {@code path}: Conveyor's, or KServe's under /v2/models and
   * /v2/repository.
   */
  /**
   * What Jetty's refusal to read a request means for the caller, in Conveyor's words: its reason
   * may quote the request's bytes (a multipart parser's "Illegal character …"), so it is never
   * repeated; only a body that came slower than {@code --min-data-rate} is named as such.
   */
  static ConveyorException unreadable(BadMessageException bad) {
    boolean slow = bad.getReason() != null && bad.getReason().contains("data rate");
    return new ConveyorException(
        ErrorCode.BAD_REQUEST,
        slow
            ? "the request's body came slower than the minimum data rate (--min-data-rate)"
            : "the request cannot be read");
  }

  static ObjectNode body(String path, String code, String message) {
    ObjectNode body = Json.mapper().createObjectNode();
    if (path != null && (path.startsWith("/v2/models") || path.startsWith("/v2/repository"))) {
      body.put("error", message);
    } else {
      body.put("success", false);
      body.putObject("error").put("code", code).put("message", message);
    }
    return body;
  }

  /**
   * Answers an error from outside Javalin (a servlet filter), as {@link #answer} would: {@code
   * status}, and the JSON of {@link #body}.
   */
  static void write(
      HttpServletRequest request,
      HttpServletResponse response,
      int status,
      String code,
      String message)
      throws IOException {
    response.setStatus(status);
    response.setContentType("application/json");
    response
        .getOutputStream()
        .write(Json.mapper().writeValueAsBytes(body(request.getRequestURI(), code, message)));
  }
}
