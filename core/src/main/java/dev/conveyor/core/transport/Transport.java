package dev.conveyor.core.transport;

import dev.conveyor.core.ClassifyResult;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where workers take requests from. Delivery is at least once wherever the broker allows it: a
 * request stays owned by the transport until it is {@link #ack acknowledged}, which a worker does
 * only after the result is stored; exactly once where the broker can store the result and
 * acknowledge the request in one step ({@link #exactlyOnce()}). Transports do not batch or linger:
 * the worker does, by polling.
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

  /**
   * The transport's own step that stores results and acknowledges their requests at once, when its
   * broker address asks for {@code delivery=exactly-once} and the broker allows it; empty for
   * delivery at least once, where the worker stores through its sink and then {@link #ack}s.
   */
  default Optional<ExactlyOnce> exactlyOnce() {
    return Optional.empty();
  }

  /**
   * Settles exactly once in {@code store} rather than in the broker: each batch's results and the
   * positions read up to, in one transaction of the store, and reading resumes where the store
   * says. Called before the first {@link #poll}; returns whether this transport does so (a
   * transport whose broker records consumption as positions, with {@code delivery=exactly-once}).
   * Its {@link #exactlyOnce()} then stores in {@code store}.
   */
  default boolean storeIn(PositionStore store) {
    return false;
  }

  /**
   * Results stored and their requests acknowledged in one atomic step of the broker, so that a
   * worker killed at any moment leaves each request either answered and acknowledged, or neither.
   */
  interface ExactlyOnce {
    /**
     * Stores each result where the broker keeps results and acknowledges its delivery, atomically.
     * A delivery whose request was answered already (by a worker that was thought dead and then
     * finished, or by an attempt before) is not answered again.
     *
     * @return for each result, whether it was stored: false for a request answered already
     * @throws Exception when the broker did not take them; none was stored, or those stored are
     *     acknowledged too and will not be answered again
     */
    boolean[] deliverAndAck(List<Delivery> deliveries, List<ClassifyResult> results)
        throws Exception;

    /**
     * Whether batches must be settled in the order they were taken, one at a time: a broker that
     * records what was consumed as a position (Kafka's offsets) cannot record a later batch as done
     * before an earlier one.
     */
    default boolean inOrder() {
      return false;
    }
  }

  /** A short description for logs, such as {@code embedded(capacity=1024)}. */
  String describe();

  @Override
  default void close() {}
}
