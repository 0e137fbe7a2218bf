package dev.conveyor.kafka;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.transport.ResultSink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes results to the results topic, keyed by request id, as the JSON {@code classify} prints
 * (with the worker's host name), and to a request's {@code reply-to} topic when it names one in the
 * reply namespace ({@code reply-prefix}); a request whose {@code reply-to} lies outside it gets a
 * {@code BAD_REQUEST} result, and nothing is written to the topic it named. Returns only once Kafka
 * has acknowledged every write to the results topic; a reply topic that cannot be written is logged
 * and fails no other request of the batch.
 */
public final class KafkaResultSink implements ResultSink {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaResultSink.class);

  private final KafkaAddress address;
  private final KafkaProducer<String, byte[]> producer;

  public KafkaResultSink(KafkaAddress address) {
    this.address = address;
    this.producer = new KafkaProducer<>(KafkaRequests.producerProperties(address));
  }

  @Override
  public void deliver(List<ImageRequest> requests, List<ClassifyResult> results) throws Exception {
    List<Future<?>> sent = new ArrayList<>(results.size());
    List<Future<?>> replySends = new ArrayList<>();
    for (int i = 0; i < results.size(); i++) {
      ClassifyResult r = results.get(i);
      String replyTo = requests.get(i).replyTo();
      boolean replies = replyTo != null && !replyTo.isBlank();
      if (replies && !address.replyAllowed(replyTo)) {
        r =
            ClassifyResult.error(
                requests.get(i),
                ErrorCode.BAD_REQUEST,
                "the request's reply-to is outside this worker's reply namespace (reply-prefix)",
                r.host(),
                r.latencyMs() == null ? 0 : r.latencyMs());
        replies = false;
      }
      byte[] json = Records.utf8(Json.write(r));
      sent.add(producer.send(new ProducerRecord<>(address.results(), r.id(), json)));
      if (replies) {
        replySends.add(producer.send(new ProducerRecord<>(replyTo, r.id(), json)));
      }
    }
    for (Future<?> f : sent) {
      f.get();
    }
    for (Future<?> f : replySends) {
      try {
        f.get();
      } catch (ExecutionException e) {
        LOG.warn("a reply topic could not be written: {}", e.getCause().toString());
      }
    }
  }

  @Override
  public void close() {
    producer.close();
  }
}
