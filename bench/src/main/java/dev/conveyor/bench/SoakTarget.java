package dev.conveyor.bench;

import dev.conveyor.core.ImageRequest;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Where a soak's requests go, and how their answers come back: the HTTP server ({@link
 * HttpSoakTarget}) or a broker's reply client ({@link BrokerSoakTarget}).
 */
interface SoakTarget {
  /** Sends one request; its outcome is reported to {@code outcome}, now or later. */
  void send(ImageRequest r, SoakOutcomes outcome) throws Exception;

  /** Hands answers on until {@code running} turns false. */
  default void read(SoakOutcomes outcome, AtomicBoolean running) {}

  /** Whether each request's answer is its response, so that only a response can be missing. */
  default boolean http() {
    return false;
  }
}
