package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Results;
import dev.conveyor.redis.TestRedisClient;
import dev.conveyor.testing.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Redis stream → Flink → Redis on a real redis-server: a job cancelled and started again. */
@Timeout(240)
class RedisJobIT {
  @TempDir static Path dir;
  static RedisServer redis;
  static TestRedisClient client;

  @BeforeAll
  static void start() throws Exception {
    Path data = Files.createDirectories(dir.resolve("redis"));
    redis = RedisServer.start(data, false);
    client = new TestRedisClient(redis.uri(""));
  }

  @AfterAll
  static void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  @Test
  void aJobCancelledMidRunStartsAgainFromItsCheckpointAndLosesNothing() throws Exception {
    String uri = redis.uri("mode=stream&images=flink:images&results=flink:results&group=flink");
    int n = 200;
    List<ImageRequest> sent = FlinkTesting.requests(n);
    FlinkTesting.send(uri, sent);
    TestRedisClient r = client;
    Path checkpoints = dir.resolve("checkpoints");

    // the first run: slowed down, so that it is cancelled with work read and not acknowledged
    FlinkJob first =
        FlinkJob.of(
            FlinkTesting.settings(
                uri, uri, "checkpoint-ms", "500", "checkpoints", checkpoints.toString()));
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.createLocalEnvironment(2, first.configuration());
    first.build(env, requests -> requests.map(new FlinkTesting.Slow(15)).returns(Incoming.class));
    JobClient job = env.executeAsync(first.name());
    waitFor(
        () -> completedCheckpoints(checkpoints) > 0 && pending(r) > 0 && stored(r) > 20,
        "a completed checkpoint, results stored, entries read and not acknowledged");
    long acknowledgedBefore = acknowledged(r, n);
    assertThat(acknowledgedBefore)
        .as("entries are acknowledged only once a checkpoint covers their results")
        .isLessThanOrEqualTo(stored(r));
    job.cancel().get();
    long inFlight = pending(r);
    long storedAtCancel = stored(r);
    System.out.printf(
        "Redis job: cancelled with %d of %d results stored and %d entries pending%n",
        storedAtCancel, n, inFlight);
    assertThat(inFlight).as("work in flight at the cancel").isPositive();
    assertThat(storedAtCancel).as("work left to do").isLessThan(n);

    // the second run: from the newest checkpoint, until the stream has nothing more
    Map<String, String> again =
        FlinkTesting.settings(uri, uri, "restore", checkpoints.toString(), "until-end", "true");
    FlinkJob second = FlinkJob.of(again);
    second.run(
        StreamExecutionEnvironment.createLocalEnvironment(2, second.configuration()),
        UnaryOperator.identity(),
        new Engine.Listener() {});

    assertThat(pending(r)).as("every entry acknowledged").isZero();
    List<JsonNode> results = new ArrayList<>();
    try (Results reader = Brokers.open(uri).results()) {
      reader.stored(json -> results.add(Json.read(json, JsonNode.class)));
    }
    Map<String, Integer> answered = new HashMap<>();
    results.forEach(x -> answered.merge(x.get("id").asText(), 1, Integer::sum));
    assertThat(answered.keySet())
        .as("every request answered")
        .containsExactlyInAnyOrderElementsOf(sent.stream().map(ImageRequest::id).toList());
    long duplicates = results.size() - n;
    System.out.printf("Redis job: %d results, %d duplicates%n", results.size(), duplicates);
    assertThat(duplicates)
        .as("duplicates bounded by what was in flight")
        .isLessThanOrEqualTo(inFlight);
    for (ImageRequest s : sent) {
      assertThat(r.get("conveyor:result:" + s.id()))
          .as("the result key, as worker writes it")
          .isNotNull();
    }
  }

  @Test
  void entriesLeftPendingByAConsumerThatWentAwayAreClaimedAndAnswered() throws Exception {
    String uri =
        redis.uri("mode=stream&images=gone:images&results=gone:results&group=flink&claim-idle=1");
    List<ImageRequest> sent = FlinkTesting.requests(20);
    FlinkTesting.send(uri, sent);
    TestRedisClient r = client;
    // a consumer of the same group (a worker, or a task of a job since rescaled) takes 8, then dies
    List<String> taken = r.xreadgroup("gone:images", "flink", "old-worker", 8);
    assertThat(taken).hasSize(8);
    // and the third reader of a job that ran with 3 tasks (this one has 2) takes 4
    assertThat(r.xreadgroup("gone:images", "flink", "flink-2", 4)).hasSize(4);
    waitFor(
        () -> r.pending("gone:images", "flink", 12).stream().allMatch(p -> p.idleMillis() > 1000),
        "the dead consumers' entries idle for longer than claim-idle");

    FlinkJob job = FlinkJob.of(FlinkTesting.settings(uri, uri, "until-end", "true"));
    job.run(
        StreamExecutionEnvironment.createLocalEnvironment(2, job.configuration()),
        UnaryOperator.identity(),
        new Engine.Listener() {});

    assertThat(r.pendingCount("gone:images", "flink")).as("all acknowledged").isZero();
    for (ImageRequest s : sent) {
      assertThat(r.get("conveyor:result:" + s.id())).as("answered: " + s.id()).isNotNull();
    }
  }

  @Test
  void withCheckpointsAMinuteApartEachResultIsStoredWithinTwoSeconds() throws Exception {
    String uri = redis.uri("mode=stream&images=ckpt:images&results=ckpt:results&group=flink");
    TestRedisClient r = client;
    try (Running job = Running.start(uri, "checkpoint-ms", "60000")) {
      List<Long> millis = oneAtATime(uri, r, "ckpt");
      System.out.printf("Redis job, checkpoints every 60 s: results after %s ms%n", millis);
      assertThat(millis).as("no result waits for a checkpoint").allMatch(ms -> ms < 2000);
    }
  }

  @Test
  void entriesAwaitingACheckpointLongerThanClaimIdleAreNotClaimedAgainByTheLiveReaders()
      throws Exception {
    // claims every half second, checkpoints an hour apart: the entries stay pending, idle for
    // longer than claim-idle, held by live readers, which must neither claim their own again nor
    // each other's. Flink takes the first checkpoint at a random moment within the interval: an
    // hour makes one during these few seconds all but impossible
    String uri =
        redis.uri("mode=stream&images=idle:images&results=idle:results&group=flink&claim-idle=1");
    TestRedisClient r = client;
    List<ImageRequest> sent = FlinkTesting.requests(6);
    try (Running job = Running.start(uri, "checkpoint-ms", "3600000")) {
      FlinkTesting.send(uri, sent);
      waitFor(() -> r.xlen("idle:results") >= sent.size(), "every result stored");
      Thread.sleep(3000);
      List<TestRedisClient.Pending> pending = r.pending("idle:images", "flink", 100);
      assertThat(pending).as("pending until a checkpoint").hasSize(sent.size());
      assertThat(pending)
          .as("each entry delivered once, never claimed")
          .allMatch(p -> p.deliveries() == 1 && p.idleMillis() > 2000);
    }
    Map<String, Integer> answered = new HashMap<>();
    try (Results reader = Brokers.open(uri).results()) {
      reader.stored(
          json ->
              answered.merge(Json.read(json, JsonNode.class).get("id").asText(), 1, Integer::sum));
    }
    assertThat(answered)
        .as("each request answered exactly once")
        .containsOnlyKeys(sent.stream().map(ImageRequest::id).toList())
        .allSatisfy((id, times) -> assertThat(times).as(id).isEqualTo(1));
  }

  @Test
  void toTheClientWithCheckpointsAMinuteApartEachResultArrivesWithinTwoSeconds() throws Exception {
    String uri = redis.uri("mode=stream&images=out:images&results=out:results&group=flink");
    try (Running job = Running.start(uri, "sink", "-", "checkpoint-ms", "60000")) {
      List<Long> millis =
          oneAtATime(
              uri,
              "out",
              id -> job.printed.stream().anyMatch(j -> j.startsWith("{\"id\":\"" + id + "\"")));
      System.out.printf("Redis job to the client, checkpoints every 60 s: after %s ms%n", millis);
      assertThat(millis).as("no result waits for a checkpoint").allMatch(ms -> ms < 2000);
    }
  }

  @Test
  void withoutCheckpointsAFolderSinkMakesEachResultReadableWithinSecondsAndAcknowledgesIt()
      throws Exception {
    String uri = redis.uri("mode=stream&images=files:images&group=flink");
    Path out = dir.resolve("files");
    TestRedisClient r = client;
    try (Running job =
        Running.start(uri, "sink", out.toString(), "checkpoint-ms", "0", "parallelism", "1")) {
      List<Long> millis = oneAtATime(uri, "files", id -> lines(out).anyMatch(l -> l.contains(id)));
      System.out.printf("Redis job to files, no checkpoints: results after %s ms%n", millis);
      assertThat(millis).as("each line readable within the linger").allMatch(ms -> ms < 2000);
      waitFor(
          () -> r.pendingCount("files:images", "flink") == 0,
          "the sink acknowledging what it wrote");
    }
    assertThat(lines(out).toList()).hasSize(4).allMatch(l -> l.startsWith("{\"id\":\"files-"));
    try (Stream<Path> files = Files.list(out)) {
      assertThat(files.map(f -> f.getFileName().toString()).toList())
          .singleElement()
          .satisfies(f -> assertThat(f).matches("results-[0-9a-f]{8}-0\\.jsonl"));
    }
  }

  /** The JSON lines in a folder sink's files so far. */
  private static Stream<String> lines(Path folder) throws java.io.IOException {
    if (!Files.isDirectory(folder)) {
      return Stream.empty();
    }
    List<String> all = new ArrayList<>();
    try (Stream<Path> files = Files.list(folder)) {
      for (Path f : files.toList()) {
        all.addAll(Files.readAllLines(f));
      }
    }
    return all.stream();
  }

  @Test
  void withoutCheckpointsTheSinkAcknowledgesWhatItStoredAndAStopLeavesNothingPending()
      throws Exception {
    String uri = redis.uri("mode=stream&images=nock:images&results=nock:results&group=flink");
    TestRedisClient r = client;
    List<ImageRequest> burst = FlinkTesting.requests(12);
    long stopMillis;
    try (Running job = Running.start(uri, "checkpoint-ms", "0")) {
      List<Long> millis = oneAtATime(uri, r, "nock");
      System.out.printf("Redis job, no checkpoints: results after %s ms%n", millis);
      assertThat(millis).as("each result stored within the linger").allMatch(ms -> ms < 2000);
      FlinkTesting.send(uri, burst.stream().map(b -> renamed(b, "nock-burst-")).toList());
      waitFor(() -> r.xlen("nock:results") == 4 + burst.size(), "every result stored");
      waitFor(
          () -> r.pendingCount("nock:images", "flink") == 0,
          "the sink acknowledging what it stored");
      long t = System.nanoTime();
      job.stop();
      stopMillis = (System.nanoTime() - t) / 1_000_000;
    }
    System.out.printf("Redis job, no checkpoints: stopped cleanly in %d ms%n", stopMillis);
    assertThat(r.pendingCount("nock:images", "flink")).as("nothing pending").isZero();
    assertThat(r.xlen("nock:results")).as("every result stored, once").isEqualTo(16);
    for (ImageRequest b : burst) {
      assertThat(r.get("conveyor:result:nock-burst-" + b.id())).as("answered").isNotNull();
    }
  }

  @Test
  void aCleanStopWithoutCheckpointsStoresWhatTheSinkHeldAndAcknowledgesIt() throws Exception {
    String uri = redis.uri("mode=stream&images=held:images&results=held:results&group=flink");
    TestRedisClient r = client;
    List<ImageRequest> sent = FlinkTesting.requests(12);
    try (Running job = Running.start(uri, "checkpoint-ms", "0", "sink-linger-ms", "600000")) {
      FlinkTesting.send(uri, sent);
      waitFor(() -> job.classified.get() == sent.size(), "every request classified");
      assertThat(r.xlen("held:results")).as("results held in the sink").isZero();
      assertThat(r.pendingCount("held:images", "flink"))
          .as("entries not acknowledged before their results are stored")
          .isEqualTo(sent.size());
      job.stop();
    }
    assertThat(r.xlen("held:results")).as("the stop stored what the sink held").isEqualTo(12);
    assertThat(r.pendingCount("held:images", "flink")).as("nothing pending").isZero();
  }

  /**
   * Sends 4 requests one at a time, each once the one before is answered (the first also waits for
   * the job to start), and returns how long each of the last 3 took to be stored.
   */
  private static List<Long> oneAtATime(String uri, TestRedisClient r, String prefix)
      throws Exception {
    return oneAtATime(uri, prefix, id -> r.exists("conveyor:result:" + id));
  }

  private static List<Long> oneAtATime(String uri, String prefix, Answered answered)
      throws Exception {
    List<Long> millis = new ArrayList<>();
    List<ImageRequest> four = FlinkTesting.requests(4);
    for (int i = 0; i < four.size(); i++) {
      ImageRequest one = renamed(four.get(i), prefix + "-");
      long t = System.nanoTime();
      FlinkTesting.send(uri, List.of(one));
      waitFor(() -> answered.test(one.id()), "the result of " + one.id());
      if (i > 0) {
        millis.add((System.nanoTime() - t) / 1_000_000);
      }
    }
    return millis;
  }

  private static ImageRequest renamed(ImageRequest r, String prefix) {
    return new ImageRequest(
        prefix + r.id(), r.source(), r.bytes(), r.contentType(), r.replyTo(), 0);
  }

  /** A Redis → Redis job running on a thread of its own, stopped as conveyor flink stops it. */
  private static final class Running implements AutoCloseable {
    private final Thread thread;
    private final java.util.concurrent.CompletableFuture<Engine.Report> done =
        new java.util.concurrent.CompletableFuture<>();
    final java.util.concurrent.atomic.AtomicLong classified =
        new java.util.concurrent.atomic.AtomicLong();
    final List<String> printed = new java.util.concurrent.CopyOnWriteArrayList<>();

    private Running(FlinkJob job) {
      thread =
          new Thread(
              () -> {
                try {
                  done.complete(
                      job.run(
                          StreamExecutionEnvironment.createLocalEnvironment(2, job.configuration()),
                          UnaryOperator.identity(),
                          new Engine.Listener() {
                            @Override
                            public void progress(long results, long errors) {
                              classified.set(results);
                            }

                            @Override
                            public void result(String json) {
                              printed.add(json);
                            }
                          }));
                } catch (Throwable e) {
                  done.completeExceptionally(e);
                }
              },
              "flink-job");
      thread.start();
    }

    static Running start(String uri, String... more) {
      return new Running(FlinkJob.of(FlinkTesting.settings(uri, uri, more)));
    }

    /** Interrupts the job's thread (what Ctrl-C does) and waits until the job has stopped. */
    void stop() throws Exception {
      thread.interrupt();
      thread.join(120_000);
      assertThat(thread.isAlive()).as("the job stopped").isFalse();
      assertThat(done).as("stopped by the interrupt").isCompletedExceptionally();
    }

    @Override
    public void close() throws Exception {
      if (thread.isAlive()) {
        stop();
      }
    }
  }

  private static long pending(TestRedisClient r) {
    return r.pendingCount("flink:images", "flink");
  }

  private static long stored(TestRedisClient r) {
    return r.xlen("flink:results");
  }

  /** Entries the group has read and acknowledged. */
  private static long acknowledged(TestRedisClient r, int n) {
    // every entry is read once before it is acknowledged; read = n - lag
    Map<String, Object> group = r.group("flink:images", "flink");
    if (group.isEmpty()) {
      return 0;
    }
    return n - (Long) group.get("lag") - (Long) group.get("pending");
  }

  private static long completedCheckpoints(Path dir) throws Exception {
    if (!Files.isDirectory(dir)) {
      return 0;
    }
    try (Stream<Path> files = Files.walk(dir, 3)) {
      return files.filter(p -> p.getFileName().toString().equals("_metadata")).count();
    }
  }

  private static void waitFor(Check check, String what) throws Exception {
    long deadline = System.nanoTime() + 60_000_000_000L;
    while (!check.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(20);
    }
  }

  private interface Check {
    boolean holds() throws Exception;
  }

  private interface Answered {
    boolean test(String id) throws Exception;
  }
}
