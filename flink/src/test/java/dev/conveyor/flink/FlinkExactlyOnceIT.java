package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.testing.KafkaServer;
import dev.conveyor.testing.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delivery exactly once in Flink, proved with kills: the job jar runs twice on a standalone
 * cluster, both jobs reading one Kafka topic (each with its consumer group), one writing to Kafka
 * with {@code delivery=exactly-once} (a transaction per checkpoint), the other to Redis with {@code
 * delivery=exactly-once} (idempotent by request id). While 2,000 requests go through, the
 * TaskManager running both is killed with SIGKILL three times, each time while the Redis job is
 * part-way through a round of requests, and a new one started; each job restarts from its last
 * checkpoint and reads again what came after it. Afterwards every request has exactly one result in
 * each sink. What there was to recover is counted: records of transactions the kills aborted, and
 * results the replays offered Redis again, which it refused.
 */
@Timeout(480)
class FlinkExactlyOnceIT {
  private static final int REQUESTS = 2000;
  private static final int KILLS = 3;

  @TempDir Path dir;
  private KafkaServer kafka;
  private RedisServer redis;
  private FlinkCluster cluster;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (kafka != null) {
      kafka.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  @Test
  void aTaskManagerKilledMidStreamLeavesEveryRequestOneResultInKafkaAndInRedis() throws Exception {
    kafka = KafkaServer.start(Files.createDirectories(dir.resolve("kafka")));
    redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")), false);
    cluster =
        FlinkCluster.start(
            Files.createDirectories(dir.resolve("flink")),
            2,
            "heartbeat.interval: 1000",
            "heartbeat.timeout: 5000",
            "restart-strategy.type: fixed-delay",
            "restart-strategy.fixed-delay.attempts: 1000",
            "restart-strategy.fixed-delay.delay: 1 s");
    String requests = kafka.uri("topic=jobs&partitions=2");
    submit("to-kafka", "to-kafka", kafka.uri("results=answers&delivery=exactly-once"));
    submit("to-redis", "to-redis", redis.uri("delivery=exactly-once"));

    List<ImageRequest> all = FlinkTesting.requests(REQUESTS);
    int per = REQUESTS / (KILLS + 1);
    for (int round = 0; round <= KILLS; round++) {
      FlinkTesting.send(requests, all.subList(round * per, (round + 1) * per));
      if (round < KILLS) {
        // the Redis job part-way through this round: results stored since its last checkpoint,
        // which its restart reads again; the Kafka job's transaction open meanwhile
        int into = round * per + per / 10;
        await(
            () -> redis.length("conveyor:results") >= into,
            Duration.ofSeconds(150),
            "working on round " + round);
        // and the Kafka job's transaction holding results (a few seconds at most while it works):
        // the kill then aborts them
        long open = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        try (Admin admin =
            Admin.create(Map.<String, Object>of("bootstrap.servers", kafka.bootstrap()))) {
          while (!openTransaction(admin) && System.nanoTime() < open) {
            Thread.sleep(10);
          }
        }
        cluster.killTaskManager();
        cluster.startTaskManager();
      }
    }
    await(
        () -> committed().size() >= REQUESTS && redisResults().size() >= REQUESTS,
        Duration.ofSeconds(180),
        "every request answered in both sinks");

    Map<String, Integer> inKafka = committed();
    Map<String, Integer> inRedis = redisResults();
    int kafkaDuplicates = inKafka.values().stream().mapToInt(n -> n - 1).sum();
    int redisDuplicates = inRedis.values().stream().mapToInt(n -> n - 1).sum();
    // read uncommitted, the topic also holds what aborted transactions wrote
    long aborted = everyRecord() - inKafka.values().stream().mapToInt(n -> n).sum();
    long refused = redis.scriptCalls() - inRedis.values().stream().mapToInt(n -> n).sum();
    System.out.printf(
        "delivery, Flink, exactly once: %d requests, %d TaskManager kills; Kafka: %d lost, %d"
            + " duplicates, %d records of aborted transactions; Redis: %d lost, %d duplicates,"
            + " %d replayed results refused%n",
        REQUESTS,
        KILLS,
        REQUESTS - inKafka.size(),
        kafkaDuplicates,
        aborted,
        REQUESTS - inRedis.size(),
        redisDuplicates,
        refused);
    assertThat(inKafka.keySet())
        .containsExactlyInAnyOrderElementsOf(all.stream().map(ImageRequest::id).toList());
    assertThat(kafkaDuplicates).isZero();
    assertThat(inRedis.keySet())
        .containsExactlyInAnyOrderElementsOf(all.stream().map(ImageRequest::id).toList());
    assertThat(redisDuplicates).isZero();
    assertThat(aborted).as("results written in transactions the kills aborted").isPositive();
    assertThat(refused).as("results stored after a checkpoint, offered again").isPositive();
  }

  private void submit(String name, String group, String sink) throws Exception {
    Process run =
        cluster.flink(
            name,
            "run",
            "-d",
            "-c",
            "dev.conveyor.flink.ClassifyJob",
            StandaloneClusterIT.JOB_JAR.toAbsolutePath().toString(),
            "--source",
            kafka.uri("topic=jobs&partitions=2&group=" + group),
            "--sink",
            sink,
            "--model",
            ClassifyOperatorTest.MODEL,
            "--batch",
            "8",
            "--checkpoint-ms",
            "1000",
            "--checkpoints",
            dir.resolve("checkpoints-" + name).toString());
    assertThat(run.waitFor(120, TimeUnit.SECONDS)).as("flink run -d returned").isTrue();
    assertThat(run.exitValue())
        .as(Files.readString(dir.resolve("flink").resolve(name + ".err")))
        .isZero();
  }

  /** How many results each request id has in the results topic, read committed. */
  private Map<String, Integer> committed() {
    return kafka.keys("answers", true);
  }

  /**
   * Whether a transaction holds results in the results topic now: a partition's end, read
   * uncommitted, past its last stable offset, where the first open transaction begins.
   */
  private static boolean openTransaction(Admin admin) {
    try {
      int partitions =
          admin
              .describeTopics(List.of("answers"))
              .allTopicNames()
              .get(10, TimeUnit.SECONDS)
              .get("answers")
              .partitions()
              .size();
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        latest.put(new TopicPartition("answers", p), OffsetSpec.latest());
      }
      var stable =
          admin
              .listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
              .all()
              .get(10, TimeUnit.SECONDS);
      var end =
          admin
              .listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_UNCOMMITTED))
              .all()
              .get(10, TimeUnit.SECONDS);
      return end.entrySet().stream()
          .anyMatch(e -> e.getValue().offset() > stable.get(e.getKey()).offset());
    } catch (Exception notYet) {
      return false;
    }
  }

  /** Every record of the results topic, those of aborted transactions too. */
  private long everyRecord() {
    return kafka.keys("answers", false).values().stream().mapToInt(n -> n).sum();
  }

  /** How many results each request id has in the Redis results stream. */
  private Map<String, Integer> redisResults() {
    try {
      return redis.idsIn("conveyor:results");
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void await(BooleanSupplier done, Duration within, String what) throws Exception {
    long deadline = System.nanoTime() + within.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within " + within + ": " + what + cluster.logs());
      }
      Thread.sleep(10);
    }
  }
}
