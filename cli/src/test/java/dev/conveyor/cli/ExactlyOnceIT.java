package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Requests;
import dev.conveyor.testing.KafkaServer;
import dev.conveyor.testing.PostgresServer;
import dev.conveyor.testing.RedisServer;
import dev.conveyor.testing.TestProcesses;
import dev.conveyor.train.FashionMnist;
import dev.conveyor.train.PngExport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BooleanSupplier;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Delivery exactly once, proved with kills: real {@code conveyor worker} processes with {@code
 * delivery=exactly-once}, one of them killed with SIGKILL 20 times (and started again) while 2,000
 * requests go through, on the PostgreSQL queue and Kafka to Kafka (with the broker killed and
 * started again), 12 times with 1,200 on the Redis stream and the Redis list (each with a Redis
 * restart, AOF {@code always}). Afterwards every request has exactly one result in the results
 * store. Half of the kills are aimed at the moment the killed worker's batch is being stored and
 * acknowledged: the broker is held busy for a moment (a long script, a table lock, Kafka frozen
 * with SIGSTOP), the worker logs that it is storing, and it is killed before it logs that it
 * stored. The counts are printed for the docs.
 */
@Timeout(420)
class ExactlyOnceIT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();

  /** Kills per run where a kill lands in the window less often (Kafka's, the table lock's). */
  private static final int ROUNDS = 20;

  /**
   * Kills per exactly-once run on Redis, where most kills land in the window (14 to 17 of 20 in
   * earlier runs): fewer rounds prove the same. The at-least-once contrast keeps 20, since its
   * duplicates need kills in the window whose stores then reached Redis (one in 12 rounds once).
   */
  private static final int REDIS_ROUNDS = 12;

  private static final int PER_ROUND = 100;

  /**
   * Deliveries before a request is dead-lettered. Each kill of a worker holding a request, and each
   * store the broker's restart makes fail, counts as one: with the default 3, a request held by two
   * killed workers and then stored during the restart is dead-lettered, as it should be, and the
   * run would count it lost (one was, in one run). The run proves that no request is lost or
   * answered twice, not where the limit lies.
   */
  private static final String DELIVERIES = "&max-deliveries=10";

  /** The worker's debug lines as a batch's store starts, and once it is acknowledged. */
  private static final String STORING = "storing ";

  private static final String SETTLED = "acknowledged";

  @TempDir(cleanup = org.junit.jupiter.api.io.CleanupMode.NEVER)
  Path dir;

  private final List<Process> workers = new ArrayList<>();
  private final Random random = new Random(29);
  private RedisServer redis;
  private PostgresServer postgres;
  private KafkaServer kafka;
  private List<byte[]> images;

  @AfterEach
  void stop() throws Exception {
    for (Process p : workers) {
      TestProcesses.kill(p);
    }
    if (redis != null) {
      redis.close();
    }
    if (postgres != null) {
      postgres.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  /** The broker under test: its URI, and how to hold it busy and read its results. */
  private interface Path29 {
    String uri();

    /**
     * Keeps the broker from finishing a worker's store for about {@code millis}; returns once the
     * hold has begun, with the thread that ends it.
     */
    Thread holdBusy(int millis) throws Exception;

    /** How long after its log says it is storing a worker is killed: its commands on their way. */
    default int killAfterMillis() {
      return 100;
    }

    /**
     * Whether {@link #holdBusy} leaves producers free, so that it can begin before they send. Then
     * the steady worker is paused (SIGSTOP) while a round aims at the window, so that the victim,
     * just started, takes the round's requests instead of the steady one taking them all first.
     */
    default boolean holdsBeforeRequests() {
      return false;
    }

    /**
     * Whether the worker of process {@code pid}, started, is taking requests: a worker that prints
     * its start line and is then still a few seconds from its first poll would let the steady one
     * take every request of the round.
     */
    default boolean ready(long pid) throws Exception {
      return true;
    }

    /** Whether the worker of process {@code pid} holds requests it has not settled. */
    boolean holds(long pid) throws Exception;

    /** How many results each request id has in the results store. */
    Map<String, Integer> results() throws Exception;

    /** Restarts the broker, once, mid-run; nothing for brokers not restarted here. */
    void restart() throws Exception;

    /** The worker's options beyond its transport: where else results go. */
    default List<String> options() {
      return List.of();
    }
  }

  @Test
  void aRedisStreamAnswersEveryRequestOnceThroughKillsAndARestart() throws Exception {
    redis = redis();
    run(
            "Redis stream, exactly once",
            redisPath(redis.uri("mode=stream&delivery=exactly-once&claim-idle=1" + DELIVERIES)),
            REDIS_ROUNDS)
        .exactlyOnce();
  }

  @Test
  void atLeastOnceTheSameKillsAnswerRequestsTwice() throws Exception {
    // the harness's teeth: the same run without exactly once stores results whose requests the
    // killed worker never acknowledged, and they are answered again
    redis = redis();
    Outcome o =
        run(
            "Redis stream, at least once",
            redisPath(redis.uri("mode=stream&claim-idle=1" + DELIVERIES)));
    assertThat(o.inWindow()).isPositive();
    assertThat(o.lost()).isZero();
    assertThat(o.duplicates()).as("requests answered twice").isPositive();
  }

  @Test
  void aRedisListAnswersEveryRequestOnceThroughKillsAndARestart() throws Exception {
    redis = redis();
    run(
            "Redis list, exactly once",
            redisPath(redis.uri("mode=list&delivery=exactly-once&heartbeat=1" + DELIVERIES)),
            REDIS_ROUNDS)
        .exactlyOnce();
  }

  @Test
  void kafkaToKafkaAnswersEveryRequestOnceThroughKillsAndABrokerRestart() throws Exception {
    kafka = KafkaServer.start(Files.createDirectories(dir.resolve("kafka")));
    // a killed worker's partitions go to the others after its session, here 6 s
    String uri =
        kafka.uri(
            "topic=jobs&results=answers&partitions=4&delivery=exactly-once"
                + "&kafka.session.timeout.ms=6000&kafka.heartbeat.interval.ms=1000"
                + DELIVERIES);
    run(
            "Kafka, exactly once",
            new Path29() {
              @Override
              public String uri() {
                return uri;
              }

              @Override
              public Thread holdBusy(int millis) throws Exception {
                Thread t = background(() -> kafka.freeze(millis)); // SIGSTOP, then SIGCONT
                Thread.sleep(50);
                return t;
              }

              @Override
              public boolean holds(long pid) throws Exception {
                // requests not yet committed as consumed, which the killed worker may have held
                try (org.apache.kafka.clients.admin.Admin admin =
                    org.apache.kafka.clients.admin.Admin.create(
                        Map.of("bootstrap.servers", kafka.bootstrap()))) {
                  var committed =
                      admin
                          .listConsumerGroupOffsets("conveyor")
                          .partitionsToOffsetAndMetadata()
                          .get();
                  var ends =
                      admin
                          .listOffsets(
                              committed.keySet().stream()
                                  .collect(
                                      java.util.stream.Collectors.toMap(
                                          tp -> tp,
                                          tp ->
                                              org.apache.kafka.clients.admin.OffsetSpec.latest())))
                          .all()
                          .get();
                  return committed.entrySet().stream()
                      .anyMatch(e -> ends.get(e.getKey()).offset() > e.getValue().offset());
                }
              }

              @Override
              public Map<String, Integer> results() {
                return kafka.keys("answers", true);
              }

              @Override
              public void restart() throws Exception {
                kafka.kill();
                kafka.launchAgain();
              }
            })
        .exactlyOnce();
  }

  @Test
  void kafkaToPostgresAnswersEveryRequestOnceThroughKillsAndABrokerRestart() throws Exception {
    kafka = KafkaServer.start(Files.createDirectories(dir.resolve("kafka")));
    postgres = PostgresServer.start();
    String uri =
        kafka.uri(
            "topic=jobs&partitions=4&delivery=exactly-once"
                + "&kafka.session.timeout.ms=6000&kafka.heartbeat.interval.ms=1000"
                + DELIVERIES);
    String table = postgres.uri("results=answers&offsets=read_up_to");
    run(
            "Kafka to PostgreSQL, exactly once",
            new Path29() {
              @Override
              public String uri() {
                return uri;
              }

              @Override
              public List<String> options() {
                return List.of("--results-to", table);
              }

              @Override
              public Thread holdBusy(int millis) throws Exception {
                return lockAnswers(millis);
              }

              @Override
              public boolean holds(long pid) throws Exception {
                // requests past the offsets stored with the results, which the killed worker may
                // have held
                Map<Integer, Long> stored = new HashMap<>();
                try (Connection c = postgres.connect();
                    Statement s = c.createStatement();
                    ResultSet rs =
                        s.executeQuery("SELECT partition_number, next_offset FROM read_up_to")) {
                  while (rs.next()) {
                    stored.put(rs.getInt(1), rs.getLong(2));
                  }
                } catch (java.sql.SQLException noTableYet) {
                  // no worker has stored a batch yet: every offset is still to be stored
                }
                try (org.apache.kafka.clients.admin.Admin admin =
                    org.apache.kafka.clients.admin.Admin.create(
                        Map.of("bootstrap.servers", kafka.bootstrap()))) {
                  Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest =
                      new HashMap<>();
                  for (int p = 0; p < 4; p++) {
                    latest.put(
                        new TopicPartition("jobs", p),
                        org.apache.kafka.clients.admin.OffsetSpec.latest());
                  }
                  var ends = admin.listOffsets(latest).all().get();
                  return ends.entrySet().stream()
                      .anyMatch(
                          e ->
                              e.getValue().offset()
                                  > stored.getOrDefault(e.getKey().partition(), 0L));
                }
              }

              @Override
              public Map<String, Integer> results() throws Exception {
                return answers();
              }

              @Override
              public void restart() throws Exception {
                kafka.kill();
                kafka.launchAgain();
              }
            })
        .exactlyOnce();
    aCallerGetsItsReply(uri);
  }

  /** A caller waiting on the results topic gets its result once it is in the table. */
  private void aCallerGetsItsReply(String uri) throws Exception {
    try (dev.conveyor.core.transport.Replies client = Brokers.open(uri).client()) {
      ImageRequest waiting = ImageRequest.ofBytes("waiting.png", images.get(0), null);
      client.send(waiting, Duration.ofSeconds(30));
      // every result written from now on comes back; the caller picks its own by id
      List<dev.conveyor.core.ClassifyResult> mine = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (mine.isEmpty() && System.nanoTime() < deadline) {
        client.poll(
            r -> {
              if (r.id().equals(waiting.id())) {
                mine.add(r);
              }
            });
      }
      assertThat(mine).hasSize(1);
      assertThat(mine.get(0).isOk()).isTrue();
      assertThat(answers()).containsEntry(waiting.id(), 1);
    }
  }

  @Test
  void thePostgresQueueAnswersEveryRequestOnceThroughKills() throws Exception {
    postgres = PostgresServer.start();
    String uri =
        postgres.uri("table=jobs&results=answers&delivery=exactly-once&lease=2" + DELIVERIES);
    run(
            "PostgreSQL queue, exactly once",
            new Path29() {
              @Override
              public String uri() {
                return uri;
              }

              @Override
              public boolean holdsBeforeRequests() {
                return true;
              }

              @Override
              public Thread holdBusy(int millis) throws Exception {
                return lockAnswers(millis);
              }

              @Override
              public boolean ready(long pid) throws Exception {
                // its poller's connection, made on its first poll
                return count(
                        ("SELECT count(*) FROM pg_stat_activity"
                                + " WHERE application_name LIKE 'conveyor worker %%/%d-%%'")
                            .formatted(pid))
                    > 0;
              }

              @Override
              public boolean holds(long pid) throws Exception {
                return count(
                        "SELECT count(*) FROM jobs WHERE worker LIKE '%%/%d-%%' AND visible_at > now()"
                            .formatted(pid))
                    > 0;
              }

              @Override
              public Map<String, Integer> results() throws Exception {
                return answers();
              }

              @Override
              public void restart() {}

              private long count(String sql) throws Exception {
                try (Connection c = postgres.connect();
                    Statement s = c.createStatement();
                    ResultSet rs = s.executeQuery(sql)) {
                  rs.next();
                  return rs.getLong(1);
                }
              }
            })
        .exactlyOnce();
  }

  /** Holds the results table locked for {@code millis}; returns once it is locked. */
  private Thread lockAnswers(int millis) throws Exception {
    java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
    Thread t =
        background(
            () -> {
              try (Connection c = postgres.connect();
                  Statement s = c.createStatement()) {
                c.setAutoCommit(false);
                s.execute("LOCK TABLE answers IN EXCLUSIVE MODE");
                held.countDown();
                Thread.sleep(millis);
                c.commit();
              }
            });
    await(() -> held.getCount() == 0, Duration.ofSeconds(10), "the table locked");
    return t;
  }

  /** How many rows each request id has in the results table. */
  private Map<String, Integer> answers() throws Exception {
    Map<String, Integer> out = new HashMap<>();
    try (Connection c = postgres.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT image_key, count(*) FROM answers GROUP BY image_key")) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getInt(2));
      }
    }
    return out;
  }

  private RedisServer redis() throws Exception {
    return RedisServer.start(
        Files.createDirectories(dir.resolve("redis")),
        RedisServer.Options.plain().appendOnly("always"));
  }

  private Path29 redisPath(String uri) {
    boolean stream = uri.contains("mode=stream");
    return new Path29() {
      @Override
      public String uri() {
        return uri;
      }

      @Override
      public Thread holdBusy(int millis) throws Exception {
        // a script runs alone: nothing else Redis is sent runs until it ends
        String spin =
            "local s = redis.call('TIME') repeat local n = redis.call('TIME') until"
                + " (n[1] - s[1]) * 1000000 + (n[2] - s[2]) > tonumber(ARGV[1]) * 1000";
        Thread t = background(() -> redis.cli("EVAL", spin, "0", Integer.toString(millis)));
        Thread.sleep(150); // redis-cli started and connected: the script spins
        return t;
      }

      @Override
      public boolean holds(long pid) throws Exception {
        if (stream) {
          List<String> info = redis.cli("XINFO", "CONSUMERS", "conveyor:images", "conveyor");
          // name, its value, pending, its value, …: the pending count of the worker's consumer
          for (int i = 0; i + 3 < info.size(); i++) {
            if (info.get(i).equals("name") && info.get(i + 1).contains("-" + pid + "-")) {
              return Integer.parseInt(info.get(i + 3)) > 0;
            }
          }
          return false;
        }
        for (String key : redis.cli("KEYS", "conveyor:images:processing:*-" + pid + "-*")) {
          if (!key.isBlank() && Integer.parseInt(redis.cli("LLEN", key).get(0)) > 0) {
            return true;
          }
        }
        return false;
      }

      @Override
      public Map<String, Integer> results() throws Exception {
        return redis.idsIn("conveyor:results");
      }

      @Override
      public void restart() throws Exception {
        redis.restart();
      }
    };
  }

  private interface Work {
    void run() throws Exception;
  }

  private static Thread background(Work work) {
    Thread t =
        new Thread(
            () -> {
              try {
                work.run();
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    t.start();
    return t;
  }

  private Process worker(String name, Path29 broker) throws IOException {
    List<String> command =
        new ArrayList<>(
            List.of(
                ROOT.resolve("conveyor").toString(),
                "worker",
                "--transport",
                broker.uri(),
                "--model",
                ROOT.resolve("models/fashion-mnist.onnx").toString(),
                "--batch",
                "8"));
    command.addAll(broker.options());
    ProcessBuilder b =
        new ProcessBuilder(command)
            .redirectOutput(dir.resolve(name + ".out").toFile())
            .redirectError(ProcessBuilder.Redirect.appendTo(dir.resolve(name + ".err").toFile()));
    b.environment().put("HOSTNAME", name);
    // each batch's store and acknowledgement, logged as it starts and as it ends
    b.environment()
        .put(
            "CONVEYOR_JAVA_OPTS",
            "-Dorg.slf4j.simpleLogger.log.dev.conveyor.core.worker.BatchFinisher=debug");
    Process p = b.start();
    workers.add(p);
    return p;
  }

  private String log(String name) throws IOException {
    Path file = dir.resolve(name + ".err");
    return Files.exists(file) ? Files.readString(file) : "";
  }

  private static void await(BooleanSupplier done, Duration within, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!done.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(1);
    }
  }

  /** Whether the worker's log ends inside a store: it started one and has not finished it. */
  private static boolean storing(String log) {
    return log.lastIndexOf(STORING) > log.lastIndexOf(SETTLED);
  }

  private static int count(String text, String what) {
    int n = 0;
    for (int at = text.indexOf(what); at >= 0; at = text.indexOf(what, at + 1)) {
      n++;
    }
    return n;
  }

  /** What a run counted. */
  private record Outcome(
      int rounds, int kills, int holding, int inWindow, int lost, int duplicates) {
    void exactlyOnce() {
      assertThat(inWindow).as("kills while a batch was being stored and acknowledged").isPositive();
      assertThat(kills).isEqualTo(rounds);
      assertThat(holding).as("kills that left work to recover").isPositive();
      assertThat(lost).isZero();
      assertThat(duplicates).isZero();
    }
  }

  private Outcome run(String path, Path29 broker) throws Exception {
    return run(path, broker, ROUNDS);
  }

  private Outcome run(String path, Path29 broker, int rounds) throws Exception {
    FashionMnist test =
        FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(8);
    images = new ArrayList<>();
    for (int i = 0; i < test.count(); i++) {
      images.add(PngExport.png(test, i));
    }
    Process steady = worker("steady", broker);
    Process victim = worker("victim", broker);
    java.util.Set<String> ids = new java.util.HashSet<>();
    int kills = 0;
    int holding = 0;
    int inWindow = 0;
    try (Requests producer = Brokers.open(broker.uri()).producer()) {
      for (int round = 0; round < rounds; round++) {
        int started = round + 1; // each start of the victim appends its line to its log
        await(
            () -> {
              try {
                return count(log("victim"), "conveyor worker:") >= started;
              } catch (IOException e) {
                return false;
              }
            },
            Duration.ofSeconds(60),
            "the victim started");
        long victimPid = victim.pid();
        await(
            () -> {
              try {
                return broker.ready(victimPid);
              } catch (Exception e) {
                return false;
              }
            },
            Duration.ofSeconds(60),
            "the victim taking requests");
        boolean intoWindow = round % 2 == 1;
        String at = log("victim");
        // a table locked does not stop requests coming; a Redis held busy would stop them too
        boolean holdFirst = intoWindow && broker.holdsBeforeRequests();
        if (holdFirst) {
          TestProcesses.signal(steady, "STOP");
        }
        Thread busy = holdFirst ? broker.holdBusy(4000) : null;
        for (int i = 0; i < PER_ROUND; i++) {
          ImageRequest r =
              ImageRequest.ofBytes("r" + round + "-" + i, images.get(i % images.size()), null);
          ids.add(r.id());
          producer.send(r, Duration.ofSeconds(30));
        }
        assertThat(producer.flush(Duration.ofSeconds(30))).isEmpty();
        if (intoWindow) {
          // into the window: the broker held busy, the victim killed while it waits in a store
          if (busy == null) {
            // once the victim works on this round (a Kafka worker just started waits for its
            // partitions), the broker is held in the middle of it
            long working = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (!log("victim").substring(at.length()).contains(STORING)
                && System.nanoTime() < working) {
              Thread.sleep(1);
            }
            busy = broker.holdBusy(1000);
          }
          long deadline = System.nanoTime() + Duration.ofMillis(holdFirst ? 3000 : 700).toNanos();
          while (!storing(log("victim")) && System.nanoTime() < deadline) {
            Thread.onSpinWait();
          }
          // long enough for the store's commands to reach the broker, which runs them after the
          // worker is gone: at least once, nothing acknowledges them
          Thread.sleep(broker.killAfterMillis());
          TestProcesses.kill(victim);
          if (holdFirst) {
            TestProcesses.signal(steady, "CONT");
          }
          busy.join();
        } else {
          Thread.sleep(random.nextInt(200));
          TestProcesses.kill(victim);
        }
        kills++;
        String after = log("victim");
        String tail = after.substring(at.length());
        if (tail.contains(STORING) && storing(after)) {
          inWindow++;
        }
        if (broker.holds(victim.pid())) {
          holding++;
        }
        if (round == rounds / 2) {
          broker.restart();
        }
        workers.remove(victim);
        victim = worker("victim", broker);
      }
    }
    int sent = rounds * PER_ROUND;
    @SuppressWarnings("unchecked")
    Map<String, Integer>[] results = new Map[1];
    await(
        () -> {
          try {
            results[0] = broker.results();
            return results[0].size() >= sent;
          } catch (Exception e) {
            return false;
          }
        },
        Duration.ofSeconds(120),
        "every request answered");
    assertThat(ids).hasSize(sent);
    assertThat(results[0].keySet()).as("results of requests not sent").isSubsetOf(ids);
    int duplicates = results[0].values().stream().mapToInt(n -> n - 1).sum();
    int lost = (int) ids.stream().filter(id -> !results[0].containsKey(id)).count();
    System.out.printf(
        "delivery, %s: %d requests, %d kills, %d with requests held, %d in the window"
            + " (storing, not yet stored), %d lost, %d duplicates%n",
        path, sent, kills, holding, inWindow, lost, duplicates);
    return new Outcome(rounds, kills, holding, inWindow, lost, duplicates);
  }
}
