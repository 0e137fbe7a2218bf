package dev.conveyor.server;

import java.util.Map;

/** An HTTP error with its status, answered as JSON {@code {"success":false,"error":{...}}}. */
final class HttpError extends RuntimeException {
  final int status;
  final String code;
  final Map<String, String> headers;

  HttpError(int status, String code, String message) {
    this(status, code, message, Map.of());
  }

  HttpError(int status, String code, String message, Map<String, String> headers) {
    super(message);
    this.status = status;
    this.code = code;
    this.headers = headers;
  }
}
