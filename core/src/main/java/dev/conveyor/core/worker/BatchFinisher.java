package dev.conveyor.core.worker;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Transport;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of a worker's batch, on its inference thread: runs the model on the prepared batch, then
 * delivers one result per request to the sink and acknowledges them (or, for delivery exactly once,
 * has the transport store and acknowledge them in one step), or hands back to the transport what
 * may succeed if tried again (a retriable error, a model that failed, a sink that failed).
 */
final class BatchFinisher {
  private static final Logger LOG = LoggerFactory.getLogger(BatchFinisher.class);

  private final Settle settle;
  private final ResultSink sink;
  private final WorkerEvents events;
  private final Transport.ExactlyOnce exactlyOnce;

  /**
   * @param exactlyOnce the transport's step that stores results and acknowledges at once, or null
   *     to store through {@code sink} and then acknowledge
   */
  BatchFinisher(
      Settle settle, ResultSink sink, WorkerEvents events, Transport.ExactlyOnce exactlyOnce) {
    this.settle = settle;
    this.sink = sink;
    this.events = events;
    this.exactlyOnce = exactlyOnce;
  }

  void finish(WorkerSlot slot) {
    List<Delivery> deliveries = slot.deliveries;
    if (slot.lease == null) {
      if (slot.refused != null) {
        deliver(deliveries, slot.refused);
      } else {
        settle.release(deliveries, slot.releaseReason);
      }
      return;
    }
    Pipeline pipeline = slot.lease.pipeline();
    List<ClassifyResult> results;
    long start = System.nanoTime();
    try {
      results = slot.lease.named(pipeline.finish(slot.batch));
      if (slot.batch.filled() > 0) {
        events.batch(slot.batch.filled(), System.nanoTime() - start);
      }
    } catch (ConveyorException e) {
      if (e.retriable()) {
        LOG.warn(
            "the model failed on a batch of {}; releasing it for redelivery", deliveries.size(), e);
        events.batchFailed(deliveries.size());
        settle.release(deliveries, "the model failed: " + e.getMessage());
        return;
      }
      results = pipeline.failAll(slot.batch, e);
    }
    List<Delivery> done = new ArrayList<>(deliveries.size());
    List<ClassifyResult> stored = new ArrayList<>(results.size());
    List<Delivery> again = new ArrayList<>();
    String reason = null;
    for (int i = 0; i < deliveries.size(); i++) {
      ConveyorException error = slot.batch.error(i);
      if (error != null && error.retriable()) {
        again.add(deliveries.get(i));
        reason = error.getMessage();
      } else {
        done.add(deliveries.get(i));
        stored.add(results.get(i));
      }
    }
    if (!again.isEmpty()) {
      settle.release(again, reason);
    }
    deliver(done, stored);
  }

  private void deliver(List<Delivery> deliveries, List<ClassifyResult> results) {
    if (deliveries.isEmpty()) {
      return;
    }
    List<ImageRequest> requests = deliveries.stream().map(Delivery::request).toList();
    boolean[] stored = null;
    try {
      LOG.debug(
          "storing {} results{}",
          results.size(),
          exactlyOnce != null ? " and acknowledging their requests in one step" : "");
      // with exactly once, the sink holds only the results' other places (results-to), which stay
      // at least once: they are stored before the broker's own step, as in the other order a
      // failure between them could not hand the batch back
      sink.deliver(requests, results);
      if (exactlyOnce != null) {
        stored = exactlyOnce.deliverAndAck(deliveries, results);
        LOG.debug("stored {} results and acknowledged their requests", results.size());
      }
    } catch (Exception e) {
      LOG.warn("storing {} results failed; releasing them for redelivery", results.size(), e);
      settle.release(deliveries, "storing the result failed: " + e.getMessage());
      return;
    }
    if (exactlyOnce == null) {
      LOG.debug("stored {} results; acknowledging their requests", results.size());
      settle.ack(deliveries);
      LOG.debug("acknowledged {} requests", results.size());
    }
    long now = System.nanoTime();
    for (int i = 0; i < results.size(); i++) {
      if (stored != null && !stored[i]) {
        continue; // answered already, by this worker's earlier attempt or another's
      }
      events.result(requests.get(i), results.get(i), now - requests.get(i).enqueuedNanos());
    }
  }
}
