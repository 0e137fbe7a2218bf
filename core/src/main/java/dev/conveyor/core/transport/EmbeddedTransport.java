package dev.conveyor.core.transport;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingDeque;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;

/**
 * The in-memory transport and result sink: Conveyor's default when there is no broker, and a test
 * double for code that uses transports. The queue is bounded; a full queue answers {@link
 * ErrorCode#BUSY} instead of growing. Each submitted request gets a future that completes with its
 * result.
 */
public final class EmbeddedTransport implements Transport, ResultSink {
  private final int capacity;
  private final int maxDeliveries;
  private final BlockingDeque<Delivery> queue;
  private final Map<String, CompletableFuture<ClassifyResult>> pending = new ConcurrentHashMap<>();

  /**
   * @param capacity the most requests waiting at once
   * @param maxDeliveries how often a request is delivered before it is dead-lettered
   */
  public EmbeddedTransport(int capacity, int maxDeliveries) {
    if (capacity < 1 || maxDeliveries < 1) {
      throw new IllegalArgumentException("capacity and maxDeliveries must be at least 1");
    }
    this.capacity = capacity;
    this.maxDeliveries = maxDeliveries;
    this.queue = new LinkedBlockingDeque<>(capacity);
  }

  /**
   * Enqueues a request if there is room.
   *
   * @throws ConveyorException with {@code BUSY} when the queue is full
   */
  public CompletableFuture<ClassifyResult> submit(ImageRequest request) {
    CompletableFuture<ClassifyResult> future = register(request);
    if (!queue.offerLast(new Delivery(request, 1, null))) {
      pending.remove(request.id());
      throw busy();
    }
    return future;
  }

  /**
   * Enqueues a request, waiting up to {@code timeout} for room: back-pressure for producers that
   * can wait.
   *
   * @throws ConveyorException with {@code BUSY} when no room came in time
   */
  public CompletableFuture<ClassifyResult> submit(ImageRequest request, Duration timeout)
      throws InterruptedException {
    CompletableFuture<ClassifyResult> future = register(request);
    if (!queue.offerLast(new Delivery(request, 1, null), timeout.toNanos(), TimeUnit.NANOSECONDS)) {
      pending.remove(request.id());
      throw busy();
    }
    return future;
  }

  private CompletableFuture<ClassifyResult> register(ImageRequest request) {
    CompletableFuture<ClassifyResult> future = new CompletableFuture<>();
    if (pending.putIfAbsent(request.id(), future) != null) {
      throw new IllegalArgumentException(
          "a request with id " + request.id() + " is already queued");
    }
    return future;
  }

  private ConveyorException busy() {
    return new ConveyorException(
        ErrorCode.BUSY,
        "the queue is full (%d requests waiting); try again later".formatted(capacity));
  }

  /** Requests waiting to be taken. */
  public int depth() {
    return queue.size();
  }

  public int capacity() {
    return capacity;
  }

  @Override
  public List<Delivery> poll(int max, Duration timeout) throws InterruptedException {
    return QueuePoll.poll(queue, max, timeout);
  }

  @Override
  public void ack(List<Delivery> deliveries) {
    // results complete the futures in deliver(); nothing is held once taken
  }

  @Override
  public void release(List<Delivery> deliveries, String reason) {
    List<Delivery> again = new ArrayList<>();
    for (Delivery d : deliveries) {
      if (d.attempt() >= maxDeliveries) {
        complete(
            ClassifyResult.error(
                d.request(),
                ErrorCode.DEAD_LETTER,
                "gave up after %d deliveries: %s".formatted(d.attempt(), reason),
                null,
                millisSince(d.request())));
      } else {
        again.add(new Delivery(d.request(), d.attempt() + 1, null));
      }
    }
    // back at the front, in their order; producers may have filled the room meanwhile
    for (int i = again.size() - 1; i >= 0; i--) {
      if (!queue.offerFirst(again.get(i))) {
        complete(
            ClassifyResult.error(
                again.get(i).request(),
                ErrorCode.BUSY,
                "could not requeue after a failure (" + reason + "): the queue is full",
                null,
                millisSince(again.get(i).request())));
      }
    }
  }

  @Override
  public void deliver(List<ImageRequest> requests, List<ClassifyResult> results) {
    results.forEach(this::complete);
  }

  private void complete(ClassifyResult result) {
    CompletableFuture<ClassifyResult> future = pending.remove(result.id());
    if (future != null) {
      future.complete(result);
    }
  }

  private static double millisSince(ImageRequest request) {
    return (System.nanoTime() - request.enqueuedNanos()) / 1e6;
  }

  @Override
  public String describe() {
    return "embedded(capacity=%d)".formatted(capacity);
  }

  /** Fails every request still waiting, so no caller hangs after shutdown. */
  @Override
  public void close() {
    List<Delivery> left = new ArrayList<>();
    queue.drainTo(left);
    for (CompletableFuture<ClassifyResult> f : pending.values()) {
      f.completeExceptionally(
          new ConveyorException(ErrorCode.INTERNAL, "Conveyor shut down before the result came"));
    }
    pending.clear();
  }
}
