package dev.conveyor.bench;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Replies;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Sends a soak's requests through a broker's reply client, refused when its backlog is full, and
 * reads their results back from it.
 */
record BrokerSoakTarget(Replies client) implements SoakTarget {
  @Override
  public void send(ImageRequest r, SoakOutcomes outcome) throws InterruptedException {
    outcome.waiting.put(r.id(), r.enqueuedNanos()); // before its answer can come
    try {
      client.send(r, Duration.ZERO);
    } catch (RuntimeException e) {
      outcome.waiting.remove(r.id());
      throw e;
    }
    outcome.accepted.increment();
  }

  @Override
  public void read(SoakOutcomes outcome, AtomicBoolean running) {
    while (running.get()) {
      client.poll(result -> outcome.answered(result.id(), result.isOk()));
    }
  }
}
