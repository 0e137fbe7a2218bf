package dev.conveyor.core.transport;

import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Where workers take requests from. Delivery is at least once wherever the broker allows it: a
 * request stays owned by the transport until it is {@link #ack acknowledged}, which a worker does
 * only after the result is stored.
 */
public interface Transport extends AutoCloseable {

  /**
   * Takes the next batch: waits a short while (well under a second, so callers can notice a
   * shutdown) for a first request, then gathers more for at most {@code linger} after it, up to
   * {@code max}. Returns an empty list when nothing came.
   */
  List<Delivery> take(int max, Duration linger) throws InterruptedException;

  /**
   * Like {@link #take(int, Duration)}, but lingers only while {@code keepLingering} holds: a worker
   * passes "the model is still busy with earlier batches", so a batch grows while it could not run
   * anyway and starts as soon as the model is free. Transports that cannot stop early linger the
   * whole time.
   */
  default List<Delivery> take(int max, Duration linger, BooleanSupplier keepLingering)
      throws InterruptedException {
    return take(max, linger);
  }

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
