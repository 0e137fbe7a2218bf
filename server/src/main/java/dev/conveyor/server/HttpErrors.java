package dev.conveyor.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns every failure in a handler into JSON with the status {@link HttpStatus#of} gives its code:
 * {@code {"success":false,"error":{"code","message"}}}, or KServe's {@code {"error":"…"}} under
 * {@code /v2/models}. A failure that is not a {@link ConveyorException} is a bug: it is logged and
 * answered as {@code INTERNAL} without its details.
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
    } else {
      LOG.error("{} {} failed", ctx.method(), ctx.path(), t);
      e =
          new ConveyorException(
              ErrorCode.INTERNAL, "an unexpected error; the server's log says more");
    }
    ctx.status(HttpStatus.of(e.code()));
    if (e.code() == ErrorCode.BUSY) {
      ctx.header("Retry-After", "1");
    } else if (e.code() == ErrorCode.UNAUTHORIZED) {
      ctx.header("WWW-Authenticate", "Bearer");
    }
    ObjectNode body = Json.mapper().createObjectNode();
    if (ctx.path().startsWith("/v2/models")) {
      body.put("error", e.getMessage());
    } else {
      body.put("success", false);
      body.putObject("error").put("code", e.code().name()).put("message", e.getMessage());
    }
    ctx.json(body);
  }
}
