package dev.conveyor.core.worker;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.ResultSink;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The end of a worker's batch, on its inference thread: runs the model on the prepared batch, then
 * delivers one result per request to the sink and acknowledges them, or hands back to the transport
 * what may succeed if tried again (a retriable error, a model that failed, a sink that failed).
 */
final class BatchFinisher {
  private static final Logger LOG = LoggerFactory.getLogger(BatchFinisher.class);

  private final Settle settle;
  private final ResultSink sink;
  private final WorkerEvents events;

  BatchFinisher(Settle settle, ResultSink sink, WorkerEvents events) {
    this.settle = settle;
    this.sink = sink;
    this.events = events;
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
    try {
      sink.deliver(requests, results);
    } catch (Exception e) {
      LOG.warn("storing {} results failed; releasing them for redelivery", results.size(), e);
      settle.release(deliveries, "storing the result failed: " + e.getMessage());
      return;
    }
    settle.ack(deliveries);
    long now = System.nanoTime();
    for (int i = 0; i < results.size(); i++) {
      events.result(requests.get(i), results.get(i), now - requests.get(i).enqueuedNanos());
    }
  }
}
