package dev.conveyor.core.worker;

/**
 * Fetches the bytes of a request that carries a key instead of bytes: a file path, an object-store
 * key. Implementations must refuse anything over {@code maxBytes} without reading it whole.
 */
@FunctionalInterface
public interface Fetcher {
  /**
   * @throws dev.conveyor.core.ConveyorException with {@code FETCH_FAILED} or {@code TOO_LARGE}
   */
  byte[] fetch(String key, long maxBytes);
}
