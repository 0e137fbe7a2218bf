package dev.conveyor.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import dev.conveyor.testing.Hosts;
import dev.conveyor.testing.KafkaServer;
import dev.conveyor.testing.PostgresServer;
import dev.conveyor.testing.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;

/**
 * A broker on the machine's own namespace that workers on {@link Hosts} reach at the gateway, with
 * what the fault tests and the scaling benchmark need to see of it: what the workers of one host
 * hold, and every result stored, with the host that stored it.
 */
interface HostBrokers extends AutoCloseable {

  /** The broker's name, as reports give it: {@code Redis stream}. */
  String name();

  /** The setting that decides how soon a silent worker's requests are taken over, and its value. */
  String takeover();

  /**
   * How long one command of a client may go unanswered before it fails: Redis's command timeout (10
   * s), PostgreSQL's {@code socket-timeout} (15 s); none for Kafka, whose producer waits as long as
   * it is told to.
   */
  int networkTimeoutSeconds();

  /** The transport URI for workers on the hosts. */
  String workerUri();

  /** The transport URI for a producer on this machine. */
  String producerUri();

  /**
   * How many requests the workers on {@code host} hold now: taken from the broker and not yet
   * settled, as the broker sees it.
   */
  int held(Hosts.Host host) throws Exception;

  /** Whether the broker has taken back everything the workers on {@code host} held. */
  default boolean takenFrom(Hosts.Host host) throws Exception {
    return held(host) == 0;
  }

  /** Every result stored: request id, and the host of each result stored for it. */
  Map<String, List<String>> answered() throws Exception;

  /** How many results are stored, counted cheaply. */
  long stored() throws Exception;

  /** A Redis list or stream, its results in the stream {@code conveyor:results}. */
  static HostBrokers redis(Path dir, Hosts hosts, String mode) throws Exception {
    RedisServer redis =
        RedisServer.start(
            Files.createDirectories(dir.resolve("redis")),
            RedisServer.Options.plain().alsoOn(hosts.gateway()));
    boolean stream = mode.equals("stream");
    String query = stream ? "mode=stream&claim-idle=5" : "mode=list&heartbeat=5";
    return new HostBrokers() {
      @Override
      public String name() {
        return stream ? "Redis stream" : "Redis list";
      }

      @Override
      public String takeover() {
        return stream ? "claim-idle 5 s" : "heartbeat 5 s";
      }

      @Override
      public int networkTimeoutSeconds() {
        return 10;
      }

      @Override
      public String workerUri() {
        return redis.uriAt(hosts.gateway(), query);
      }

      @Override
      public String producerUri() {
        return redis.uri(query);
      }

      @Override
      public int held(Hosts.Host host) throws Exception {
        if (stream) {
          int held = 0;
          List<String> info = redis.cli("XINFO", "CONSUMERS", "conveyor:images", "conveyor");
          for (int i = 0; i + 3 < info.size(); i++) {
            if (info.get(i).equals("name") && info.get(i + 1).startsWith(host.name() + "-")) {
              held += Integer.parseInt(info.get(i + 3));
            }
          }
          return held;
        }
        int held = 0;
        for (String key : redis.cli("KEYS", "conveyor:images:processing:" + host.name() + "-*")) {
          if (!key.isBlank()) {
            held += Integer.parseInt(redis.cli("LLEN", key).get(0));
          }
        }
        return held;
      }

      @Override
      public Map<String, List<String>> answered() throws Exception {
        Map<String, List<String>> out = new HashMap<>();
        List<String> lines = redis.cli("XRANGE", "conveyor:results", "-", "+");
        for (int i = 0; i + 1 < lines.size(); i++) {
          if (lines.get(i).equals("result")) {
            JsonNode r = Json.mapper().readTree(lines.get(i + 1));
            out.computeIfAbsent(r.path("id").asText(), k -> new ArrayList<>())
                .add(r.path("host").asText());
          }
        }
        return out;
      }

      @Override
      public long stored() {
        return redis.length("conveyor:results");
      }

      @Override
      public void close() throws Exception {
        redis.close();
      }
    };
  }

  /** The PostgreSQL queue, its results in a table of one row per request. */
  static HostBrokers postgres(Hosts hosts) throws Exception {
    PostgresServer postgres = PostgresServer.start(hosts.gateway());
    String query = "table=jobs&results=answers&lease=5&socket-timeout=5";
    return new HostBrokers() {
      @Override
      public String name() {
        return "PostgreSQL queue";
      }

      @Override
      public String takeover() {
        return "lease 5 s";
      }

      @Override
      public int networkTimeoutSeconds() {
        return 5;
      }

      @Override
      public String workerUri() {
        return postgres.uriAt(hosts.gateway(), query);
      }

      @Override
      public String producerUri() {
        return postgres.uri(query);
      }

      @Override
      public int held(Hosts.Host host) throws Exception {
        return (int)
            count(
                "SELECT count(*) FROM jobs WHERE state = 'queued' AND visible_at > now()"
                    + " AND worker LIKE '"
                    + host.name()
                    + "/%'");
      }

      @Override
      public Map<String, List<String>> answered() throws Exception {
        Map<String, List<String>> out = new HashMap<>();
        try (Connection c = postgres.connect();
            Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT image_key, hostname FROM answers")) {
          while (rs.next()) {
            out.computeIfAbsent(rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2));
          }
        } catch (java.sql.SQLException e) {
          if (!"42P01".equals(e.getSQLState())) {
            throw e;
          }
        }
        return out;
      }

      @Override
      public long stored() throws Exception {
        return count("SELECT count(*) FROM answers");
      }

      /** A {@code SELECT count(*)}'s answer; 0 while its table is not made yet. */
      private long count(String sql) throws Exception {
        try (Connection c = postgres.connect();
            Statement s = c.createStatement();
            ResultSet rs = s.executeQuery(sql)) {
          rs.next();
          return rs.getLong(1);
        } catch (java.sql.SQLException e) {
          if ("42P01".equals(e.getSQLState())) {
            return 0;
          }
          throw e;
        }
      }

      @Override
      public void close() throws Exception {
        postgres.close();
      }
    };
  }

  /** Kafka, a topic of four partitions; see {@link #kafka(Path, Hosts, int)}. */
  static HostBrokers kafka(Path dir, Hosts hosts) throws Exception {
    return kafka(dir, hosts, 4);
  }

  /**
   * Kafka, a topic of {@code partitions} partitions (at most as many workers take from it), its
   * results in the topic {@code answers}; a member silent for 10 s leaves the group. What a host
   * holds is what its members read and did not commit: at most the records between the group's
   * committed offsets and the ends of their partitions.
   */
  static HostBrokers kafka(Path dir, Hosts hosts, int partitions) throws Exception {
    KafkaServer kafka =
        KafkaServer.start(Files.createDirectories(dir.resolve("kafka")), hosts.gateway());
    String query =
        "topic=jobs&results=answers&partitions="
            + partitions
            + "&group=workers&kafka.session.timeout.ms=10000";
    Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrap()));
    return new HostBrokers() {
      @Override
      public String name() {
        return "Kafka";
      }

      @Override
      public String takeover() {
        return "kafka.session.timeout.ms 10 s";
      }

      @Override
      public int networkTimeoutSeconds() {
        return 0;
      }

      @Override
      public String workerUri() {
        return kafka.uriAt(query);
      }

      @Override
      public String producerUri() {
        return kafka.uri(query);
      }

      @Override
      public int held(Hosts.Host host) throws Exception {
        Set<TopicPartition> mine = partitionsOf(host);
        if (mine.isEmpty()) {
          return 0;
        }
        Map<TopicPartition, OffsetAndMetadata> committed =
            admin
                .listConsumerGroupOffsets("workers")
                .partitionsToOffsetAndMetadata()
                .get(10, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        mine.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
        long held = 0;
        for (var e : admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).entrySet()) {
          OffsetAndMetadata from = committed.get(e.getKey());
          held += e.getValue().offset() - (from == null ? 0 : from.offset());
        }
        return (int) held;
      }

      @Override
      public boolean takenFrom(Hosts.Host host) throws Exception {
        ConsumerGroupDescription group = group();
        return group != null
            && group.groupState() == GroupState.STABLE
            && partitionsOf(host).isEmpty();
      }

      private Set<TopicPartition> partitionsOf(Hosts.Host host) throws Exception {
        Set<TopicPartition> out = new java.util.HashSet<>();
        ConsumerGroupDescription group = group();
        for (MemberDescription m : group == null ? List.<MemberDescription>of() : group.members()) {
          if (m.host().replace("/", "").equals(host.address())) {
            out.addAll(m.assignment().topicPartitions());
          }
        }
        return out;
      }

      /** The group, or {@code null} before its first member joins. */
      private ConsumerGroupDescription group() throws Exception {
        try {
          return admin
              .describeConsumerGroups(List.of("workers"))
              .describedGroups()
              .get("workers")
              .get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
          if (e.getCause() instanceof GroupIdNotFoundException) {
            return null;
          }
          throw e;
        }
      }

      @Override
      public Map<String, List<String>> answered() throws Exception {
        Map<String, List<String>> out = new HashMap<>();
        for (Map.Entry<String, String> r : kafka.records("answers", false)) {
          out.computeIfAbsent(r.getKey(), k -> new ArrayList<>())
              .add(Json.mapper().readTree(r.getValue()).path("host").asText());
        }
        return out;
      }

      @Override
      public long stored() throws Exception {
        if (!admin.listTopics().names().get(10, TimeUnit.SECONDS).contains("answers")) {
          return 0;
        }
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (var p :
            admin
                .describeTopics(List.of("answers"))
                .allTopicNames()
                .get(10, TimeUnit.SECONDS)
                .get("answers")
                .partitions()) {
          latest.put(new TopicPartition("answers", p.partition()), OffsetSpec.latest());
        }
        long stored = 0;
        for (var e : admin.listOffsets(latest).all().get(10, TimeUnit.SECONDS).values()) {
          stored += e.offset();
        }
        return stored;
      }

      @Override
      public void close() throws Exception {
        admin.close();
        kafka.close();
      }
    };
  }
}
