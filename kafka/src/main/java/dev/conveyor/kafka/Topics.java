package dev.conveyor.kafka;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;

/** Creates Conveyor's topics when missing: the requests, results and dead-letter topics. */
public final class Topics {
  private Topics() {}

  public static void ensure(KafkaAddress address) {
    ensure(address, Duration.ofSeconds(30));
  }

  /**
   * Creates the address's topics when missing, waiting at most about {@code wait} for Kafka.
   *
   * @throws ConveyorException {@code UNAVAILABLE} when Kafka cannot be reached
   */
  static void ensure(KafkaAddress address, Duration wait) {
    long ms = Math.max(1000, wait.toMillis());
    Properties p = address.properties();
    p.putIfAbsent("default.api.timeout.ms", Long.toString(ms));
    p.putIfAbsent("request.timeout.ms", Long.toString(Math.min(ms, 30_000)));
    try (Admin admin = Admin.create(p)) {
      Set<String> existing = admin.listTopics().names().get(ms, TimeUnit.MILLISECONDS);
      int brokers = admin.describeCluster().nodes().get(ms, TimeUnit.MILLISECONDS).size();
      short replication = (short) Math.max(1, Math.min(3, brokers));
      List<NewTopic> missing = new ArrayList<>();
      for (String topic : List.of(address.topic(), address.results(), address.deadLetter())) {
        if (!existing.contains(topic)) {
          missing.add(new NewTopic(topic, address.partitions(), replication));
        }
      }
      if (!missing.isEmpty()) {
        try {
          admin.createTopics(missing).all().get(ms, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
        awaitLeaders(admin, missing.stream().map(NewTopic::name).toList(), ms);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConveyorException(ErrorCode.UNAVAILABLE, "interrupted while creating topics", e);
    } catch (Exception e) {
      throw new ConveyorException(
          ErrorCode.UNAVAILABLE,
          "cannot reach Kafka at %s to create its topics within %d s: %s"
              .formatted(address.bootstrap(), ms / 1000, e.getMessage()),
          e);
    }
  }

  /**
   * Waits until every partition of new topics has a leader. A producer that writes to a partition
   * the broker is not yet leading is told NOT_LEADER_OR_FOLLOWER, and an idempotent producer's
   * retries after that can be refused as out of sequence until they time out.
   */
  private static void awaitLeaders(Admin admin, List<String> topics, long ms) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
    while (true) {
      try {
        boolean ready =
            admin
                .describeTopics(topics)
                .allTopicNames()
                .get(ms, TimeUnit.MILLISECONDS)
                .values()
                .stream()
                .flatMap(t -> t.partitions().stream())
                .allMatch(p -> p.leader() != null && !p.leader().isEmpty());
        if (ready) {
          // the leaders' logs are open when they answer for their offsets (the metadata can name
          // a leader a moment before its log takes writes)
          Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
          admin
              .describeTopics(topics)
              .allTopicNames()
              .get(ms, TimeUnit.MILLISECONDS)
              .values()
              .forEach(
                  t ->
                      t.partitions()
                          .forEach(
                              p ->
                                  latest.put(
                                      new TopicPartition(t.name(), p.partition()),
                                      OffsetSpec.latest())));
          admin.listOffsets(latest).all().get(ms, TimeUnit.MILLISECONDS);
          return;
        }
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
          throw e;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new TimeoutException("the new topics " + topics + " have no leader yet");
      }
      Thread.sleep(50);
    }
  }
}
