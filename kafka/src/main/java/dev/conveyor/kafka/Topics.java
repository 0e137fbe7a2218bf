package dev.conveyor.kafka;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.errors.TopicExistsException;

/** Creates Conveyor's topics when missing: the requests, results and dead-letter topics. */
final class Topics {
  private Topics() {}

  static void ensure(KafkaAddress address) {
    try (Admin admin = Admin.create(address.properties())) {
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      int brokers = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size();
      short replication = (short) Math.max(1, Math.min(3, brokers));
      List<NewTopic> missing = new ArrayList<>();
      for (String topic : List.of(address.topic(), address.results(), address.deadLetter())) {
        if (!existing.contains(topic)) {
          missing.add(new NewTopic(topic, address.partitions(), replication));
        }
      }
      if (!missing.isEmpty()) {
        try {
          admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (Exception e) {
      throw new IllegalStateException(
          "cannot reach Kafka at %s to create its topics: %s"
              .formatted(address.bootstrap(), e.getMessage()),
          e);
    }
  }
}
