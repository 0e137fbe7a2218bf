package dev.conveyor.core.transport;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ImageRequest;
import java.time.Duration;
import java.util.List;

/**
 * Sends requests to a broker. A send that cannot complete is never lost silently: it throws at
 * once, or is reported by {@link #flush}.
 */
public interface Requests extends AutoCloseable {

  /**
   * Sends a request, waiting up to {@code maxWait} for room when the broker's backlog is full.
   *
   * @throws ConveyorException {@code BUSY} when no room came in time, {@code UNAVAILABLE} when the
   *     broker cannot be reached
   */
  void send(ImageRequest request, Duration maxWait) throws InterruptedException;

  /**
   * Waits up to {@code maxWait} until the broker has acknowledged every request sent so far.
   *
   * @return the requests that could not be sent, each with its error; empty when all arrived
   */
  List<Failure> flush(Duration maxWait) throws InterruptedException;

  /** A request the broker did not take, and why. */
  record Failure(ImageRequest request, ConveyorException error) {}

  @Override
  void close();
}
