package dev.conveyor.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Requests;
import dev.conveyor.testing.KafkaServer;
import dev.conveyor.testing.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delivery exactly once in Spark, proved with kills: the job jar submitted twice to a standalone
 * cluster, one executor each, both queries reading one Kafka topic, one writing to Kafka with
 * {@code delivery=exactly-once} (each micro-batch in a transaction with its number), the other to
 * Redis with {@code delivery=exactly-once} (idempotent by request id). While 2,000 requests go
 * through, both executors are killed with SIGKILL three times while the queries work (the Redis one
 * has stored part of a micro-batch, results stored as they come); the worker starts new ones and
 * the drivers run the lost tasks again. Afterwards every request has exactly one result in each
 * sink. What there was to recover is counted: tasks lost with their executor, and results the tasks
 * run again offered Redis, which it refused.
 */
@Timeout(480)
class SparkExactlyOnceIT {
  private static final int REQUESTS = 2000;
  private static final int KILLS = 3;

  @TempDir Path dir;
  private KafkaServer kafka;
  private RedisServer redis;
  private SparkCluster cluster;

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
  void executorsKilledMidStreamLeaveEveryRequestOneResultInKafkaAndInRedis() throws Exception {
    kafka = KafkaServer.start(Files.createDirectories(dir.resolve("kafka")));
    redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")), false);
    cluster = SparkCluster.start(Files.createDirectories(dir.resolve("spark")));
    String requests = kafka.uri("topic=jobs&partitions=2");
    // the topic exists before the queries start reading it
    try (Requests producer = Brokers.open(requests).producer()) {
      assertThat(producer.flush(Duration.ofSeconds(30))).isEmpty();
    }
    submit("to-kafka", kafka.uri("results=answers&delivery=exactly-once"));
    submit("to-redis", redis.uri("delivery=exactly-once"));

    List<ImageRequest> all = requests(REQUESTS);
    int per = REQUESTS / (KILLS + 1);
    int killed = 0;
    for (int round = 0; round <= KILLS; round++) {
      try (Requests producer = Brokers.open(requests).producer()) {
        for (ImageRequest r : all.subList(round * per, (round + 1) * per)) {
          producer.send(r, Duration.ofSeconds(10));
        }
        assertThat(producer.flush(Duration.ofSeconds(30))).isEmpty();
      }
      if (round < KILLS) {
        // the Redis query's task in the middle of this round's micro-batch: part of it stored
        int into = round * per + per / 10;
        await(
            () -> redis.length("conveyor:results") >= into,
            Duration.ofSeconds(150),
            "working on round " + round);
        List<ProcessHandle> executors = cluster.executors();
        assertThat(executors).as("the queries' executors").hasSize(2);
        executors.forEach(ProcessHandle::destroyForcibly); // SIGKILL
        killed += executors.size();
      }
    }
    await(
        () -> committed().size() >= REQUESTS && redis.length("conveyor:results") >= REQUESTS,
        Duration.ofSeconds(240),
        "every request answered in both sinks");

    Map<String, Integer> inKafka = committed();
    Map<String, Integer> inRedis = redis.idsIn("conveyor:results");
    int kafkaDuplicates = inKafka.values().stream().mapToInt(n -> n - 1).sum();
    int redisDuplicates = inRedis.values().stream().mapToInt(n -> n - 1).sum();
    long refused = redis.scriptCalls() - inRedis.values().stream().mapToInt(n -> n).sum();
    int lostTasks = lostTasks("to-kafka") + lostTasks("to-redis");
    System.out.printf(
        "delivery, Spark, exactly once: %d requests, %d executor kills, %d tasks lost with their"
            + " executor; Kafka: %d lost, %d duplicates; Redis: %d lost, %d duplicates, %d"
            + " results of tasks run again refused%n",
        REQUESTS,
        killed,
        lostTasks,
        REQUESTS - inKafka.size(),
        kafkaDuplicates,
        REQUESTS - inRedis.size(),
        redisDuplicates,
        refused);
    List<String> ids = all.stream().map(ImageRequest::id).toList();
    assertThat(inKafka.keySet()).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(kafkaDuplicates).isZero();
    assertThat(inRedis.keySet()).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(redisDuplicates).isZero();
    assertThat(lostTasks).as("tasks running when their executor was killed").isPositive();
    assertThat(refused).as("results stored by a killed task, offered again").isPositive();
  }

  private static List<ImageRequest> requests(int n) throws Exception {
    List<String> names = List.of("palette-blue.png", "yellow.bmp", "tiny-gray.png", "sky.tif");
    List<ImageRequest> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Path file = TestImages.folder().resolve(names.get(i % names.size()));
      out.add(
          new ImageRequest(
              "r-" + i, file.getFileName().toString(), Files.readAllBytes(file), null, null, 0));
    }
    return out;
  }

  private void submit(String name, String sink) throws Exception {
    cluster.submit(
        name,
        "--total-executor-cores",
        "1",
        "--class",
        "dev.conveyor.spark.ClassifyQuery",
        SparkSubmitIT.JOB_JAR.toAbsolutePath().toString(),
        "--source",
        kafka.uri("topic=jobs"),
        "--sink",
        sink,
        "--checkpoints",
        dir.resolve("checkpoints-" + name).toString(),
        "--model",
        SparkJobIT.MODEL,
        "--batch",
        "8",
        "--max-per-batch",
        "1000",
        "--sink-linger-ms",
        "10");
  }

  /** Tasks the driver lost with their executor, from its log. */
  private int lostTasks(String name) throws Exception {
    Matcher m =
        Pattern.compile("Lost task .*ExecutorLostFailure")
            .matcher(Files.readString(dir.resolve("spark").resolve(name + ".err")));
    int n = 0;
    while (m.find()) {
      n++;
    }
    return n;
  }

  /** How many results each request id has in the results topic, read committed. */
  private Map<String, Integer> committed() {
    return kafka.keys("answers", true);
  }

  private static void await(BooleanSupplier done, Duration within, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!done.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(5);
    }
  }
}
