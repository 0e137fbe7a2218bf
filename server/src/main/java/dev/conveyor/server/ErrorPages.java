package dev.conveyor.server;

import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import io.javalin.config.JavalinConfig;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.ByteBuffer;
import org.eclipse.jetty.http.HttpFields;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.handler.ErrorHandler;

/**
 * The errors Jetty answers itself, before any route or filter: a request it cannot parse (a bad
 * request line, headers too large), or a failure outside Javalin. They are answered with Conveyor's
 * JSON and the headers of {@link ResponseHeaders}, and say only the status's own words, never the
 * bytes that could not be read, where Jetty's own page would be HTML that repeats them.
 */
final class ErrorPages extends ErrorHandler {
  private ErrorPages() {}

  /** Answers the server's and the page context's errors. */
  static void register(JavalinConfig c) {
    c.jetty.modifyServer(server -> server.setErrorHandler(new ErrorPages()));
    c.jetty.modifyServletContextHandler(h -> h.setErrorHandler(new ErrorPages()));
  }

  /** A request Jetty's parser refused: no request object, only the response's fields. */
  @Override
  public ByteBuffer badMessageError(int status, String reason, HttpFields.Mutable fields) {
    fields.put("X-Content-Type-Options", ResponseHeaders.NOSNIFF);
    fields.put("Content-Security-Policy", ResponseHeaders.PAGE_POLICY);
    if (org.eclipse.jetty.http.HttpStatus.hasNoBody(status)) {
      return ByteBuffer.allocate(0);
    }
    fields.put(HttpHeader.CONTENT_TYPE, "application/json");
    try {
      return ByteBuffer.wrap(
          Json.mapper().writeValueAsBytes(HttpErrors.body(null, code(status), words(status))));
    } catch (IOException e) {
      throw new IllegalStateException("an error's JSON is always written", e);
    }
  }

  @Override
  protected void generateAcceptableResponse(
      Request baseRequest,
      HttpServletRequest request,
      HttpServletResponse response,
      int status,
      String message)
      throws IOException {
    response.setHeader("X-Content-Type-Options", ResponseHeaders.NOSNIFF);
    response.setHeader("Content-Security-Policy", ResponseHeaders.PAGE_POLICY);
    HttpErrors.write(request, response, status, code(status), words(status));
  }

  /** The code of a status that Jetty, not Conveyor, chose. */
  private static String code(int status) {
    ErrorCode code =
        switch (status) {
          case 404 -> ErrorCode.NOT_FOUND;
          case 413 -> ErrorCode.TOO_LARGE;
          case 415 -> ErrorCode.UNSUPPORTED_FORMAT;
          default -> status >= 500 ? ErrorCode.INTERNAL : ErrorCode.BAD_REQUEST;
        };
    return code.name();
  }

  private static String words(int status) {
    return "the server cannot answer this request: "
        + status
        + " "
        + org.eclipse.jetty.http.HttpStatus.getMessage(status);
  }
}
