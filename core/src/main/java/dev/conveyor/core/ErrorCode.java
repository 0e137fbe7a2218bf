package dev.conveyor.core;

/**
 * Conveyor's one vocabulary of failures: every error result, refusal and usage error carries one of
 * these codes. Each says whether the same request may succeed if tried again ({@link
 * #retriable()}): a worker hands a request that failed with a retriable code back to its transport
 * for redelivery, and gives an error result at once for the others.
 */
public enum ErrorCode {
  /** The request carried no bytes at all. */
  EMPTY(false),
  /** The input is over the byte limit, or its header declares more pixels than allowed. */
  TOO_LARGE(false),
  /** The bytes (or the declared content type) are not an image format Conveyor decodes. */
  UNSUPPORTED_FORMAT(false),
  /** The bytes look like an image but are truncated or damaged. */
  CORRUPT(false),
  /**
   * A tensor request does not fit the model's input: its dtype, shape or size, or it holds NaN or
   * infinite values.
   */
  BAD_TENSOR(false),
  /**
   * What a request names does not exist or may not be had: a job, a kept image, a model; a
   * reference that is missing, unreadable or not allowed (one answer for all three, so that it
   * tells nothing of what exists).
   */
  NOT_FOUND(false),
  /**
   * The store holding a referenced image failed, after the fetcher's own retries (5xx, timeouts,
   * unreachable).
   */
  FETCH_FAILED(false),
  /** The request named a model that is not served here; its name is not repeated. */
  UNKNOWN_MODEL(false),
  /** The model failed on the batch this image was in. */
  INFERENCE_FAILED(true),
  /** The request was delivered too many times without producing a result. */
  DEAD_LETTER(false),
  /** The request cannot be read: no image in it, a malformed field or message. */
  BAD_REQUEST(false),
  /** A setting is unknown or invalid, or the model it names cannot be used. */
  INVALID_SETTING(false),
  /** The caller did not give the token this server needs. */
  UNAUTHORIZED(false),
  /** The request named a host this server does not answer for ({@code --allowed-hosts}). */
  MISDIRECTED(false),
  /** The queue is full; try again later. */
  BUSY(true),
  /** No result arrived in time. */
  TIMEOUT(true),
  /** A broker or store cannot be reached for now, or Conveyor is shutting down. */
  UNAVAILABLE(true),
  /** An unexpected failure inside Conveyor. */
  INTERNAL(false);

  private final boolean retriable;

  ErrorCode(boolean retriable) {
    this.retriable = retriable;
  }

  /** Whether the same request may succeed if sent again. */
  public boolean retriable() {
    return retriable;
  }
}
