package dev.conveyor.core.fetch;

import java.time.Duration;

/**
 * Fetches the bytes of a request that carries a key instead of bytes: a file path, an object-store
 * key. Implementations must refuse anything over {@code maxBytes} without reading it whole.
 */
@FunctionalInterface
public interface Fetcher {
  /**
   * @throws dev.conveyor.core.ConveyorException {@link FetchAllow#denied()} ({@code NOT_FOUND}) for
   *     a missing or unreadable reference, whatever the reason; {@code FETCH_FAILED} when the store
   *     fails; {@code TOO_LARGE}
   */
  byte[] fetch(String key, long maxBytes);

  /** How long the pipeline waits for one fetch before the request's {@code FETCH_FAILED}. */
  default Duration timeout() {
    return Duration.ofSeconds(30);
  }
}
