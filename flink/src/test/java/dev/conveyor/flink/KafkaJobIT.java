package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Results;
import dev.conveyor.testing.KafkaServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Kafka → Flink → Kafka on the real KRaft broker: 4 partitions, 2 tasks, a task failure. */
@Timeout(240)
class KafkaJobIT {
  @TempDir static Path dir;
  static KafkaServer kafka;

  @BeforeAll
  static void start() throws Exception {
    kafka = KafkaServer.start(dir);
  }

  @AfterAll
  static void stop() throws Exception {
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void aTaskThatFailsMidRunRestartsFromItsCheckpointAndEveryRequestIsAnswered() throws Exception {
    String uri = kafka.uri("topic=flink-in&results=flink-out&group=flink-job&partitions=4");
    Properties admin = new Properties();
    admin.put("bootstrap.servers", uri.substring("kafka://".length(), uri.indexOf('?')));
    try (Admin a = Admin.create(admin)) {
      a.createTopics(List.of(new NewTopic("flink-in", 4, (short) 1))).all().get();
    }
    int n = 300;
    List<ImageRequest> sent = FlinkTesting.requests(n);
    FlinkTesting.send(uri, sent);

    FlinkTesting.FailOnce.reset();
    Map<String, String> settings = FlinkTesting.settings(uri, uri, "until-end", "true");
    Engine.Report report =
        FlinkJob.of(settings)
            .run(
                StreamExecutionEnvironment.createLocalEnvironment(2),
                requests -> requests.map(new FlinkTesting.FailOnce(40)).returns(Incoming.class),
                new Engine.Listener() {});

    assertThat(FlinkTesting.FailOnce.FAILED).as("the failure was injected").isTrue();
    assertThat(FlinkTesting.FailOnce.CHECKPOINTS_BEFORE_FAILURE.get())
        .as("a checkpoint to restart from")
        .isPositive();
    Map<String, Integer> answered = new HashMap<>();
    List<JsonNode> results = new ArrayList<>();
    try (Results reader = Brokers.open(uri).results()) {
      reader.stored(json -> results.add(Json.read(json, JsonNode.class)));
    }
    results.forEach(r -> answered.merge(r.get("id").asText(), 1, Integer::sum));
    assertThat(answered.keySet())
        .as("every request answered")
        .containsExactlyInAnyOrderElementsOf(sent.stream().map(ImageRequest::id).toList());
    long duplicates = results.size() - answered.size();
    System.out.printf(
        "Kafka job: %d requests, %d results, %d duplicates after a failure at %d requests%n",
        n, results.size(), duplicates, FlinkTesting.FailOnce.PASSED_BEFORE_FAILURE.get());
    assertThat(duplicates).as("at least once, not from the start").isLessThan(n);
    assertThat(results)
        .filteredOn(r -> r.get("source").asText().equals("truncated.jpg"))
        .allMatch(r -> r.at("/error/code").asText().equals("CORRUPT"));
    // Flink's accumulators count the last attempt of each task, from its checkpoint on
    assertThat(report.results()).isPositive().isLessThanOrEqualTo(results.size());

    try (Admin a = Admin.create(admin)) {
      Map<org.apache.kafka.common.TopicPartition, OffsetAndMetadata> committed =
          a.listConsumerGroupOffsets("flink-job").partitionsToOffsetAndMetadata().get();
      long total = committed.values().stream().mapToLong(OffsetAndMetadata::offset).sum();
      assertThat(total).as("offsets committed on checkpoints").isPositive();
    }
  }

  @Test
  void everySettingIsCheckedBeforeTheJobIsSubmitted() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> FlinkJob.of(FlinkTesting.settings(kafka.uri("topik=x"), "-")))
        .hasMessageContaining("topik");
  }

  @Test
  void withoutCheckpointsAKafkaSourceIsRefusedForItsOffsetsWouldNeverBeCommitted() {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                FlinkJob.of(FlinkTesting.settings(kafka.uri("topic=x"), "-", "checkpoint-ms", "0")))
        .hasMessageContaining("--checkpoint-ms 0 with a Kafka source")
        .hasMessageContaining("give --checkpoint-ms a positive interval");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                FlinkJob.of(
                    FlinkTesting.settings(
                        "redis://127.0.0.1:1?mode=stream",
                        kafka.uri("results=r"),
                        "checkpoint-ms",
                        "0")))
        .hasMessageContaining("needs a sink that acknowledges");
  }
}
