package dev.conveyor.kafka;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates Conveyor's topics when missing: the requests, results and dead-letter topics. A topic
 * that exists is used as it is: Conveyor never changes its partitions. When the address gives
 * {@code partitions} ({@link KafkaConfig#partitionsGiven()}), missing topics are created with it
 * and an existing topic with another count is reported, once per process, in one warning that names
 * both counts and what to do; without it, missing topics are created with the default (4) and
 * existing ones are used silently, whatever their count.
 */
public final class Topics {
  private static final Logger LOG = LoggerFactory.getLogger(Topics.class);

  /** The warnings already logged by this process, so that each is logged once. */
  private static final Set<String> WARNED = ConcurrentHashMap.newKeySet();

  private Topics() {}

  /**
   * @return the warning about topics whose partitions differ from the address's {@code partitions},
   *     when it gives one (also logged); else empty
   */
  public static Optional<String> ensure(KafkaConfig address) {
    return ensure(address, Duration.ofSeconds(30));
  }

  /**
   * Creates the address's topics when missing, waiting at most about {@code wait} for Kafka, and
   * checks an existing topic's partitions against the address's {@code partitions} when it gives
   * one.
   *
   * @return the warning about partitions, as {@link #ensure(KafkaConfig)}
   * @throws ConveyorException {@code UNAVAILABLE} when Kafka cannot be reached
   */
  static Optional<String> ensure(KafkaConfig address, Duration wait) {
    long ms = Math.max(1000, wait.toMillis());
    Properties p = address.properties();
    p.putIfAbsent("default.api.timeout.ms", Long.toString(ms));
    p.putIfAbsent("request.timeout.ms", Long.toString(Math.min(ms, 30_000)));
    List<String> topics = List.of(address.topic(), address.results(), address.deadLetter());
    try (Admin admin = Admin.create(p)) {
      Set<String> existing = admin.listTopics().names().get(ms, TimeUnit.MILLISECONDS);
      int brokers = admin.describeCluster().nodes().get(ms, TimeUnit.MILLISECONDS).size();
      short replication = (short) Math.max(1, Math.min(3, brokers));
      List<NewTopic> missing = new ArrayList<>();
      for (String topic : topics) {
        if (!existing.contains(topic)) {
          missing.add(new NewTopic(topic, address.partitions(), replication));
        }
      }
      if (!missing.isEmpty()) {
        try {
          admin.createTopics(missing).all().get(ms, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
          // another process made it meanwhile: it is checked below like any existing topic
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw e;
          }
        }
        awaitLeaders(admin, missing.stream().map(NewTopic::name).toList(), ms);
      }
      if (!address.partitionsGiven()) {
        return Optional.empty();
      }
      Map<String, Integer> counts = new LinkedHashMap<>();
      admin
          .describeTopics(topics)
          .allTopicNames()
          .get(ms, TimeUnit.MILLISECONDS)
          .forEach((name, d) -> counts.put(name, d.partitions().size()));
      Optional<String> warning = mismatch(address, topics, counts);
      warning.ifPresent(
          w -> {
            if (WARNED.add(w)) {
              LOG.warn(w);
            }
          });
      return warning;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ConveyorException(ErrorCode.UNAVAILABLE, "interrupted while creating topics", e);
    } catch (Exception e) {
      throw new ConveyorException(
          ErrorCode.UNAVAILABLE,
          "cannot reach Kafka at %s to create its topics within %d s: %s"
              .formatted(address.bootstrap(), ms / 1000, why(e)),
          e);
    }
  }

  /** Why the admin client failed, in its own words where it has any. */
  static String why(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof org.apache.kafka.common.errors.TimeoutException
          || t instanceof java.util.concurrent.TimeoutException) {
        return "no broker answered; is Kafka running there, and is that its advertised listener?";
      }
      if (t.getMessage() != null && !(t instanceof java.util.concurrent.ExecutionException)) {
        return t.getMessage();
      }
    }
    return e.getClass().getSimpleName();
  }

  /**
   * One line about the topics whose partitions differ from the address's {@code partitions}: both
   * counts, that they are used as they are, and what the operator can do. Kafka can add partitions
   * to a topic but never take them away.
   */
  static Optional<String> mismatch(
      KafkaConfig address, List<String> topics, Map<String, Integer> counts) {
    int wanted = address.partitions();
    List<String> differ = new ArrayList<>();
    for (String topic : topics) {
      Integer n = counts.get(topic);
      if (n != null && n != wanted) {
        differ.add(topic);
      }
    }
    if (differ.isEmpty()) {
      return Optional.empty();
    }
    String first = differ.get(0);
    StringBuilder m =
        new StringBuilder(
            "Kafka topic %s has %d partitions, not the %d that partitions=%d asks for"
                .formatted(first, counts.get(first), wanted, wanted));
    if (differ.size() > 1) {
      m.append(" (also ")
          .append(
              String.join(
                  ", ",
                  differ.subList(1, differ.size()).stream()
                      .map(t -> t + ": " + counts.get(t))
                      .toList()))
          .append(")");
    }
    m.append(differ.size() > 1 ? "; they are used as they are." : "; it is used as it is.");
    if (differ.stream().anyMatch(t -> counts.get(t) > wanted)) {
      m.append(" Kafka cannot take partitions away from a topic.");
    }
    differ.stream()
        .filter(t -> counts.get(t) < wanted)
        .findFirst()
        .ifPresent(
            t ->
                m.append(
                    " To grow it: kafka-topics.sh --bootstrap-server %s --alter --topic %s --partitions %d."
                        .formatted(address.bootstrap(), t, wanted)));
    m.append(
        " Or drop partitions (and --partitions) from this command to use the topics as they are:"
            + " give every command of a pipeline the same URI.");
    return Optional.of(m.toString());
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
