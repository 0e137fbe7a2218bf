package dev.conveyor.core.transport;

import java.time.Duration;
import java.util.List;

/**
 * Where workers take requests from. Delivery is at least once wherever the broker allows it: a
 * request stays owned by the transport until it is {@link #ack acknowledged}, which a worker does
 * only after the result is stored. Transports do not batch or linger: the worker does, by polling.
 */
public interface Transport extends AutoCloseable {

  /**
   * Takes up to {@code max} requests: waits at most {@code timeout} for a first one, then adds
   * those already waiting without waiting more. Returns an empty list when nothing came.
   */
  List<Delivery> poll(int max, Duration timeout) throws InterruptedException;

  /** The results of these deliveries are stored; they must not be delivered again. */
  void ack(List<Delivery> deliveries);

  /**
   * Processing these deliveries failed before a result was stored: deliver them again, or put those
   * delivered too often in the dead-letter place with the reason.
   */
  void release(List<Delivery> deliveries, String reason);

  /** A short description for logs, such as {@code embedded(capacity=1024)}. */
  String describe();

  @Override
  default void close() {}
}
