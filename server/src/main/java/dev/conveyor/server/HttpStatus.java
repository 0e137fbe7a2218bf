package dev.conveyor.server;

import dev.conveyor.core.ErrorCode;

/** The one mapping from Conveyor's error codes to HTTP statuses, used by every endpoint. */
final class HttpStatus {
  private HttpStatus() {}

  /** The status that tells an HTTP caller what {@code code} means. */
  static int of(ErrorCode code) {
    return switch (code) {
      case EMPTY, CORRUPT, BAD_TENSOR, BAD_REQUEST, INVALID_SETTING, FETCH_FAILED -> 400;
      case UNAUTHORIZED -> 401;
      case MISDIRECTED -> 421;
      case NOT_FOUND, UNKNOWN_MODEL -> 404;
      case TOO_LARGE -> 413;
      case UNSUPPORTED_FORMAT -> 415;
      case BUSY -> 429;
      case INTERNAL, INFERENCE_FAILED, DEAD_LETTER -> 500;
      case UNAVAILABLE -> 503;
      case TIMEOUT -> 504;
    };
  }
}
