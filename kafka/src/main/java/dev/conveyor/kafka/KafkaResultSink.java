package dev.conveyor.kafka;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.transport.ResultSink;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Writes results to the results topic, keyed by request id, as the JSON {@code classify} prints
 * (with the worker's host name), and to a request's {@code reply-to} topic when it names one.
 * Returns only once Kafka has acknowledged every write.
 */
public final class KafkaResultSink implements ResultSink {
  private final KafkaAddress address;
  private final KafkaProducer<String, byte[]> producer;

  public KafkaResultSink(KafkaAddress address) {
    this.address = address;
    this.producer = new KafkaProducer<>(KafkaRequests.producerProperties(address));
  }

  @Override
  public void deliver(List<ImageRequest> requests, List<ClassifyResult> results) throws Exception {
    List<Future<?>> sent = new ArrayList<>(results.size());
    for (int i = 0; i < results.size(); i++) {
      ClassifyResult r = results.get(i);
      byte[] json = Records.utf8(Json.write(r));
      sent.add(producer.send(new ProducerRecord<>(address.results(), r.id(), json)));
      String replyTo = requests.get(i).replyTo();
      if (replyTo != null && !replyTo.isBlank()) {
        sent.add(producer.send(new ProducerRecord<>(replyTo, r.id(), json)));
      }
    }
    for (Future<?> f : sent) {
      f.get();
    }
  }

  @Override
  public void close() {
    producer.close();
  }
}
