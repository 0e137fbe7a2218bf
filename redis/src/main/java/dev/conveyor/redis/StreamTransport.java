package dev.conveyor.redis;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.Transport;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Requests from a Redis stream through a consumer group: {@code XREADGROUP COUNT batch BLOCK},
 * {@code XACK} only once the result is stored. Entries left pending by a consumer that went silent
 * (killed mid-batch) are claimed with {@code XAUTOCLAIM} once idle for {@code claim-idle}; an entry
 * delivered more than {@code max-deliveries} times goes to the dead-letter stream with its error.
 * The group is read through {@link StreamGroupReader}, as one consumer named after the worker.
 */
public final class StreamTransport implements Transport {
  private final RedisConfig address;
  private final StreamGroupReader group;
  private final RedisResultSink atomic;
  private long nextClaim;

  public StreamTransport(RedisConfig address) {
    this.address = address;
    this.group = new StreamGroupReader(address, WorkerNames.next());
    this.atomic = address.exactlyOnce() ? new RedisResultSink(address) : null;
  }

  /**
   * With {@code delivery=exactly-once}: each result is stored by a script that first acknowledges
   * its entry ({@code XACK}) and stores nothing when the entry was acknowledged already, so that an
   * entry claimed from a worker thought dead is answered by whichever of the two finishes first,
   * once.
   */
  @Override
  public Optional<ExactlyOnce> exactlyOnce() {
    if (atomic == null) {
      return Optional.empty();
    }
    byte[] stream = RequestCodec.bytes(address.images());
    byte[] groupName = RequestCodec.bytes(address.group());
    return Optional.of(
        (deliveries, results) ->
            atomic.deliver(
                deliveries.stream().map(Delivery::request).toList(),
                results,
                new RedisResultSink.Acks(
                    "xack",
                    stream,
                    groupName,
                    deliveries.stream().map(d -> RequestCodec.bytes((String) d.receipt())).toList(),
                    null)));
  }

  @Override
  public List<Delivery> poll(int max, Duration timeout) {
    long now = System.nanoTime();
    if (now >= nextClaim) {
      nextClaim = now + address.claimIdle().toNanos() / 2;
      List<StreamEntry> claimed = group.claimIdle(max);
      if (!claimed.isEmpty()) {
        return deliveries(claimed, true);
      }
    }
    // BLOCK 0 would wait forever
    return deliveries(
        group.readNew(max, Duration.ofMillis(Math.max(1, timeout.toMillis()))), false);
  }

  private List<Delivery> deliveries(List<StreamEntry> entries, boolean claimed) {
    List<Delivery> out = new ArrayList<>(entries.size());
    for (StreamEntry e : entries) {
      if (e.deleted()) {
        continue; // trimmed away while pending: nothing left to deliver
      }
      ImageRequest request;
      try {
        request = e.request(address);
      } catch (IllegalArgumentException bad) {
        group.deadLetter(e.id(), e.id(), "not a Conveyor request: " + bad.getMessage());
        continue;
      }
      int attempt = claimed ? group.deliveries(e.id()) : 1;
      if (attempt > address.maxDeliveries()) {
        group.deadLetter(
            request.id(),
            e.id(),
            "delivered %d times without a stored result".formatted(attempt - 1));
        continue;
      }
      out.add(new Delivery(request, attempt, e.id()));
    }
    return out;
  }

  @Override
  public void ack(List<Delivery> deliveries) {
    group.ack(deliveries.stream().map(d -> (String) d.receipt()).toList());
  }

  /**
   * Leaves the entries pending to be claimed again after {@code claim-idle}, or dead-letters them.
   */
  @Override
  public void release(List<Delivery> deliveries, String reason) {
    for (Delivery d : deliveries) {
      if (d.attempt() >= address.maxDeliveries()) {
        group.deadLetter(
            d.request().id(),
            (String) d.receipt(),
            "gave up after %d deliveries: %s".formatted(d.attempt(), reason));
      }
    }
  }

  @Override
  public String describe() {
    return address.describe();
  }

  @Override
  public void close() {
    try {
      group.close();
    } finally {
      if (atomic != null) {
        atomic.close();
      }
    }
  }
}
