package dev.conveyor.redis;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Replies;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Sends requests with a reply list of this client's ({@code reply-prefix + UUID}) and hands back
 * the results workers push there: a caller blocks on {@code BLPOP} instead of polling.
 */
final class RedisReplies implements Replies {
  private static final Duration WAIT = Duration.ofMillis(500);

  private final RedisConfig address;
  private final String replyTo;
  private final RedisRequests requests;
  private final RedisResults results;

  RedisReplies(RedisConfig address) {
    this.address = address;
    this.replyTo = address.replyPrefix() + UUID.randomUUID();
    this.requests = new RedisRequests(address);
    this.results = new RedisResults(address);
  }

  @Override
  public void send(ImageRequest r, Duration maxWait) throws InterruptedException {
    requests.send(
        new ImageRequest(
            r.id(), r.source(), r.bytes(), r.contentType(), replyTo, r.enqueuedNanos()),
        maxWait);
  }

  @Override
  public void poll(Consumer<ClassifyResult> sink) {
    ClassifyResult r = results.awaitReply(replyTo, WAIT);
    if (r != null) {
      sink.accept(r);
    }
  }

  @Override
  public String name() {
    return "redis "
        + address.mode().name().toLowerCase(Locale.ROOT)
        + (address.exactlyOnce() ? ", exactly once" : "");
  }

  @Override
  public void close() {
    requests.close();
    results.close();
  }
}
