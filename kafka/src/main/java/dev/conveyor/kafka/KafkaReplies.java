package dev.conveyor.kafka;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.transport.Replies;
import dev.conveyor.core.transport.Requests;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

/**
 * Sends requests and reads their results from the results topic, from the moment the client was
 * made: every result written since then comes back, and the caller picks its own by id. A request
 * Kafka did not take comes back as an error result at once.
 */
final class KafkaReplies implements Replies {
  private final KafkaRequests requests;
  private final KafkaResults results;

  private final KafkaConfig address;

  KafkaReplies(KafkaConfig address) {
    this.address = address;
    Topics.ensure(address); // the results topic is read from now on, so it must exist first
    this.requests = new KafkaRequests(address, true);
    this.results = new KafkaResults(address);
    results.fromNow();
  }

  @Override
  public void send(ImageRequest request, Duration maxWait) {
    requests.send(request, maxWait);
  }

  @Override
  public void poll(Consumer<ClassifyResult> sink) {
    List<Requests.Failure> failed = requests.failures();
    for (Requests.Failure f : failed) {
      sink.accept(
          ClassifyResult.error(f.request(), f.error().code(), f.error().getMessage(), null, 0));
    }
    results.poll(json -> sink.accept(Json.read(json, ClassifyResult.class)));
  }

  @Override
  public String name() {
    return address.exactlyOnce() ? "kafka, exactly once" : "kafka";
  }

  @Override
  public void close() {
    requests.close();
    results.close();
  }
}
