package dev.conveyor.core.transport;

import java.util.Optional;

/**
 * One broker address and what Conveyor can do with it. Each method opens new connections, which the
 * caller closes. A broker that cannot do something throws a {@link
 * dev.conveyor.core.ConveyorException} with {@code INVALID_SETTING} that says why and what to use
 * instead.
 */
public interface Broker {

  /** The address without secrets, for logs and people. */
  String describe();

  /** Where a worker takes requests from; a batch is at most {@code maxBatch} requests. */
  Transport transport(int maxBatch);

  /**
   * Where a worker stores results. With {@code delivery=exactly-once} on the address, results are
   * stored idempotently by request id: one whose request has a result there already is not stored
   * again (an engine's task that read its requests again after a failure, say).
   */
  ResultSink sink();

  /** Whether the address asks for {@code delivery=exactly-once}. */
  default boolean exactlyOnce() {
    return false;
  }

  /** Sends requests for workers to take. */
  Requests producer();

  /** Reads the results workers stored. */
  Results results();

  /** Sends requests and hands back each one's result as it comes: a front for callers. */
  Replies client();

  /**
   * The table of image keys the address names, for brokers that keep tables ({@code
   * postgresql://…?table=image_info&column=image_key}); empty for the others.
   */
  default Optional<KeyTable> keys() {
    return Optional.empty();
  }
}
