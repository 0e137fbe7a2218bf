package dev.conveyor.core.transport;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * Sends requests and receives their results: each request names where its result goes (Redis: a
 * reply list of this client's; Kafka: the results topic, read from when the client was made).
 */
public interface Replies extends AutoCloseable {

  /** Sends one request; {@code BUSY} when the broker's backlog stays full for {@code maxWait}. */
  void send(ImageRequest request, Duration maxWait) throws InterruptedException;

  /** Waits a little (at most about half a second) for results and hands each on. */
  void poll(Consumer<ClassifyResult> results);

  /** For people: {@code redis list}, {@code kafka}. */
  String name();

  @Override
  void close();
}
