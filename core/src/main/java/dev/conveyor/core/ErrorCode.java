package dev.conveyor.core;

/**
 * Why a request produced an error result. Each code says whether sending the same request again
 * could succeed, so transports know whether to redeliver.
 */
public enum ErrorCode {
  /** The request carried no bytes at all. */
  EMPTY(false),
  /** The input is over the byte limit, or its header declares more pixels than allowed. */
  TOO_LARGE(false),
  /** The bytes are not an image format Conveyor decodes (JPEG, PNG, BMP, GIF, WebP, TIFF). */
  UNSUPPORTED_FORMAT(false),
  /** The bytes look like an image but are truncated or damaged. */
  CORRUPT(false),
  /** The image could not be fetched by its key (missing file, unreachable store). */
  FETCH_FAILED(true),
  /** The model failed on the batch this image was in. */
  INFERENCE_FAILED(true),
  /** The request was delivered too many times without producing a result. */
  DEAD_LETTER(false),
  /** The queue is full; try again later. */
  BUSY(true),
  /** No result arrived in time. */
  TIMEOUT(true),
  /** An unexpected failure inside Conveyor. */
  INTERNAL(true);

  private final boolean retriable;

  ErrorCode(boolean retriable) {
    this.retriable = retriable;
  }

  /** Whether the same request may succeed if sent again. */
  public boolean retriable() {
    return retriable;
  }
}
