package dev.conveyor.core;

/**
 * The one exception type of Conveyor: a failure with an {@link ErrorCode} and a message for people.
 */
public class ConveyorException extends RuntimeException {
  private final ErrorCode code;

  public ConveyorException(ErrorCode code, String message) {
    super(message);
    this.code = code;
  }

  public ConveyorException(ErrorCode code, String message, Throwable cause) {
    super(message, cause);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }

  /** Whether the operation may succeed if tried again. */
  public boolean retriable() {
    return code.retriable();
  }
}
