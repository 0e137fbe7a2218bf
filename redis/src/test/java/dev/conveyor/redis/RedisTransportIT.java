package dev.conveyor.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.testing.LoneRequests;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.core.worker.Worker;
import dev.conveyor.testing.RedisServer;
import dev.conveyor.testing.TestProcesses;
import io.lettuce.core.Range;
import io.lettuce.core.StreamMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Redis transports against a real redis-server started for each test. */
class RedisTransportIT {
  private static final String[] COLOURS = {"cmyk-red.jpg", "rgb16-green.png", "palette-blue.png"};
  private static final String[] EXPECTED = {"red", "green", "blue"};

  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private <T extends AutoCloseable> T keep(T closeable) {
    open.add(closeable);
    return closeable;
  }

  private RedisServer redis(boolean appendOnly) throws Exception {
    return keep(RedisServer.start(dir, appendOnly));
  }

  private Worker worker(RedisConfig address, MeanColourClassifier model, int batch) {
    Worker w =
        TestWorkers.colour(
            keep(new RedisBroker(address).transport(8)),
            keep(new RedisBroker(address).sink()),
            model,
            batch);
    return keep(w);
  }

  @ParameterizedTest
  @ValueSource(strings = {"list", "stream"})
  void aLoneRequestStartsAtOnceAndABusyWorkerGathersABatch(String mode) throws Exception {
    RedisServer server = redis(false);
    RedisConfig address = RedisConfig.parse(server.uri("mode=" + mode));
    MeanColourClassifier model = LoneRequests.slowModel();
    keep(
        TestWorkers.colour(
            keep(new RedisBroker(address).transport(8)),
            keep(new RedisBroker(address).sink()),
            model,
            LoneRequests.CONFIG));
    long start = System.nanoTime();
    List<String> ids = new ArrayList<>(produce(address, 1));
    LoneRequests.awaitTheFirstBatch(model);
    ids.addAll(produce(address, 5));
    awaitResults(address, ids, Duration.ofSeconds(20));
    LoneRequests.assertTheLoneOneRanAloneAtOnce(model, start);
  }

  /** Sends n colour images; returns their ids, the i-th being colour i % 3. */
  private List<String> produce(RedisConfig address, int n) throws Exception {
    List<String> ids = new ArrayList<>();
    try (RedisRequests producer = new RedisBroker(address).producer()) {
      for (int i = 0; i < n; i++) {
        ImageRequest r =
            ImageRequest.ofBytes(COLOURS[i % 3], TestImages.bytes(COLOURS[i % 3]), null);
        producer.send(r, Duration.ofSeconds(30));
        ids.add(r.id());
      }
    }
    return ids;
  }

  /** Waits until every id has a stored result; returns them in the same order. */
  private List<ClassifyResult> awaitResults(RedisConfig address, List<String> ids, Duration timeout)
      throws Exception {
    try (RedisResults results = new RedisBroker(address).results()) {
      long deadline = System.nanoTime() + timeout.toNanos();
      List<ClassifyResult> out = new ArrayList<>();
      for (String id : ids) {
        ClassifyResult r;
        while ((r = getQuietly(results, id)) == null) {
          assertThat(System.nanoTime())
              .as("a result for %s within %s", id, timeout)
              .isLessThan(deadline);
          Thread.sleep(20);
        }
        out.add(r);
      }
      return out;
    }
  }

  /** A stored result, or null while there is none or Redis is away. */
  private static ClassifyResult getQuietly(RedisResults results, String id) {
    try {
      return results.get(id);
    } catch (io.lettuce.core.RedisException e) {
      return null;
    }
  }

  private static void assertColours(List<ClassifyResult> results) {
    for (int i = 0; i < results.size(); i++) {
      assertThat(results.get(i).isOk()).as("result %d", i).isTrue();
      assertThat(results.get(i).top().label()).isEqualTo(EXPECTED[i % 3]);
    }
  }

  /** How many results the results stream holds for each request id. */
  private static Map<String, Integer> resultsPerId(RedisConfig address) {
    Map<String, Integer> counts = new HashMap<>();
    try (RedisConnections c = new RedisConnections(address)) {
      for (StreamMessage<byte[], byte[]> m :
          c.sync().xrange(RequestCodec.bytes(address.results()), Range.create("-", "+"))) {
        m.getBody()
            .forEach(
                (k, v) -> {
                  if (RequestCodec.string(k).equals("id")) {
                    counts.merge(RequestCodec.string(v), 1, Integer::sum);
                  }
                });
      }
    }
    return counts;
  }

  @ParameterizedTest(name = "{0} mode")
  @ValueSource(strings = {"list", "stream"})
  void twoWorkersClassifyEveryRequestExactlyOnce(String mode) throws Exception {
    RedisServer server = redis(false);
    RedisConfig address = RedisConfig.parse(server.uri("mode=" + mode));
    MeanColourClassifier a = new MeanColourClassifier(32, 32);
    MeanColourClassifier b = new MeanColourClassifier(32, 32);
    worker(address, a, 4);
    worker(address, b, 4);
    List<String> ids = produce(address, 60);
    assertColours(awaitResults(address, ids, Duration.ofSeconds(30)));
    Map<String, Integer> counts = resultsPerId(address);
    assertThat(counts).hasSize(60).allSatisfy((id, n) -> assertThat(n).as(id).isEqualTo(1));
    assertThat(a.batchSizes()).as("both workers took part").isNotEmpty();
    assertThat(b.batchSizes()).isNotEmpty();
  }

  @Test
  void pubSubDeliversEveryRequestToEverySubscribedWorker() throws Exception {
    RedisServer server = redis(false);
    RedisConfig address = RedisConfig.parse(server.uri("mode=pubsub"));
    worker(address, new MeanColourClassifier(32, 32), 4);
    worker(address, new MeanColourClassifier(32, 32), 4);
    List<String> seen = new CopyOnWriteArrayList<>();
    AtomicBoolean listening = new AtomicBoolean(true);
    RedisResults results = keep(new RedisBroker(address).results());
    Thread follower = new Thread(() -> results.follow(true, listening::get, seen::add));
    follower.start();
    awaitSubscribers(address, address.images(), 2);
    awaitSubscribers(address, address.results(), 1);
    List<String> ids = produce(address, 9);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (seen.size() < 18 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    listening.set(false);
    follower.join();
    assertThat(seen).hasSize(18);
    for (String id : ids) {
      assertThat(seen.stream().filter(json -> json.contains(id))).as(id).hasSize(2);
    }
  }

  private static void awaitSubscribers(RedisConfig address, String channel, long n)
      throws Exception {
    try (RedisConnections c = new RedisConnections(address)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (c.sync().pubsubNumsub(RequestCodec.bytes(channel)).values().stream()
              .mapToLong(Long::longValue)
              .sum()
          < n) {
        assertThat(System.nanoTime()).as("%d subscribers on %s", n, channel).isLessThan(deadline);
        Thread.sleep(10);
      }
    }
  }

  @ParameterizedTest(name = "{0} mode")
  @ValueSource(strings = {"list", "stream"})
  void aWorkerKilledMidBatchLosesNothing(String mode) throws Exception {
    RedisServer server = redis(false);
    String uri = server.uri("mode=" + mode + "&claim-idle=2");
    RedisConfig address = RedisConfig.parse(uri);
    List<String> ids = produce(address, 30);
    Process victim = startWorkerProcess(uri, 4, 400);
    // once the victim has answered a batch and holds requests it has taken and not answered,
    // kill -9 it
    Set<String> held = Set.of();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (held.isEmpty()) {
      assertThat(System.nanoTime()).as("the victim took a second batch").isLessThan(deadline);
      Set<String> taken = unacknowledged(address);
      Set<String> answered = resultsPerId(address).keySet();
      taken.removeAll(answered);
      held = answered.size() >= 4 ? taken : Set.of();
      Thread.sleep(10);
    }
    TestProcesses.kill(victim);
    Set<String> inFlight = unacknowledged(address);
    Map<String, Integer> byVictim = resultsPerId(address);
    assertThat(inFlight).as("in flight at the kill").containsAll(held);
    assertThat(byVictim).as("killed before finishing").hasSizeLessThan(30);

    worker(address, new MeanColourClassifier(32, 32), 4);
    assertColours(awaitResults(address, ids, Duration.ofSeconds(40)));
    awaitEmpty(() -> unacknowledged(address), "requests left unacknowledged");
    Map<String, Integer> perId = resultsPerId(address);
    assertThat(perId).hasSize(30);
    int duplicates = perId.values().stream().mapToInt(n -> n - 1).sum();
    System.out.printf(
        "%s kill -9: %d in flight, %d answered by the victim, %d duplicates%n",
        mode, inFlight.size(), byVictim.size(), duplicates);
    // only what was in flight can be answered twice: answered by the victim, never acknowledged
    perId.forEach(
        (id, n) -> {
          if (n > 1) {
            assertThat(inFlight).as("%s answered %d times", id, n).contains(id);
            assertThat(byVictim).containsKey(id);
          }
        });
    assertThat(duplicates).isLessThanOrEqualTo(inFlight.size());
  }

  /**
   * The ids of the requests workers have taken and not acknowledged: in a processing list, or
   * pending in the stream's consumer group.
   */
  private static Set<String> unacknowledged(RedisConfig address) {
    Set<String> ids = new HashSet<>();
    try (RedisConnections c = new RedisConnections(address)) {
      var redis = c.sync();
      if (address.mode() == RedisConfig.Mode.LIST) {
        for (byte[] key : redis.keys(RequestCodec.bytes(address.images() + ":processing:*"))) {
          if (redis.type(key).equals("list")) {
            redis.lrange(key, 0, -1).forEach(m -> ids.add(RequestCodec.fromJson(m).id()));
          }
        }
      } else {
        byte[] stream = RequestCodec.bytes(address.images());
        for (var pending :
            redis.xpending(
                stream,
                RequestCodec.bytes(address.group()),
                Range.create("-", "+"),
                io.lettuce.core.Limit.from(1000))) {
          String entry = pending.getId();
          for (StreamMessage<byte[], byte[]> m : redis.xrange(stream, Range.create(entry, entry))) {
            ids.add(RequestCodec.fromEntry(address.images(), m.getId(), m.getBody()).id());
          }
        }
      }
    }
    return ids;
  }

  private static void awaitEmpty(java.util.function.Supplier<Set<String>> what, String description)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    Set<String> left;
    while (!(left = what.get()).isEmpty()) {
      assertThat(System.nanoTime()).as("%s: %s", description, left).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  private Process startWorkerProcess(String uri, int batch, int delayMillis) throws Exception {
    Process p =
        TestProcesses.startJava(
            TestWorkerMain.class, uri, Integer.toString(batch), Integer.toString(delayMillis));
    keep(() -> TestProcesses.kill(p));
    return p;
  }

  @ParameterizedTest(name = "{0} mode")
  @ValueSource(strings = {"list", "stream"})
  void aRequestThatFailsEveryTimeEndsInTheDeadLetterStream(String mode) throws Exception {
    RedisServer server = redis(false);
    RedisConfig address =
        RedisConfig.parse(server.uri("mode=" + mode + "&claim-idle=1&max-deliveries=3"));
    MeanColourClassifier failing = new MeanColourClassifier(32, 32, call -> true);
    worker(address, failing, 4);
    List<String> ids = produce(address, 1);
    try (RedisConnections c = new RedisConnections(address)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      List<StreamMessage<byte[], byte[]>> dead = List.of();
      while (dead.isEmpty() && System.nanoTime() < deadline) {
        Thread.sleep(50);
        dead = c.sync().xrange(RequestCodec.bytes(address.deadLetter()), Range.create("-", "+"));
      }
      assertThat(dead).hasSize(1);
      Map<String, String> fields = new HashMap<>();
      dead.get(0)
          .getBody()
          .forEach((k, v) -> fields.put(RequestCodec.string(k), RequestCodec.string(v)));
      assertThat(fields.get("id")).isEqualTo(ids.get(0));
      assertThat(fields.get("error")).contains("3 deliveries").contains("the model failed");
      assertThat(failing.batchSizes()).hasSize(3);
    }
  }

  @ParameterizedTest(name = "{0} mode")
  @ValueSource(strings = {"list", "stream", "pubsub"})
  void hostileImagesGetErrorResultsAtOnceAndTheWorkerGoesOn(String mode) throws Exception {
    RedisServer server = redis(false);
    RedisConfig address = RedisConfig.parse(server.uri("mode=" + mode));
    worker(address, new MeanColourClassifier(32, 32), 4);
    if (mode.equals("pubsub")) {
      awaitSubscribers(address, address.images(), 1);
    }
    Map<String, ErrorCode> hostile = TestImages.HOSTILE;
    List<ImageRequest> sent = new ArrayList<>();
    hostile.keySet().forEach(n -> sent.add(ImageRequest.ofBytes(n, TestImages.bytes(n), null)));
    sent.add(ImageRequest.ofBytes("blue", TestImages.bytes("palette-blue.png"), null));
    try (RedisRequests producer = new RedisBroker(address).producer()) {
      for (ImageRequest r : sent) {
        producer.send(r, Duration.ofSeconds(5));
      }
    }
    List<ClassifyResult> results =
        awaitResults(address, sent.stream().map(ImageRequest::id).toList(), Duration.ofSeconds(10));
    for (int i = 0; i < hostile.size(); i++) {
      assertThat(results.get(i).error().code())
          .as(sent.get(i).source())
          .isEqualTo(hostile.get(sent.get(i).source()));
    }
    assertThat(results.get(hostile.size()).top().label())
        .as("the worker goes on")
        .isEqualTo("blue");
  }

  @Test
  void aCallerBlocksOnItsReplyListInsteadOfPolling() throws Exception {
    RedisServer server = redis(false);
    RedisConfig address = RedisConfig.parse(server.uri(""));
    worker(address, new MeanColourClassifier(32, 32), 4);
    ImageRequest blue = ImageRequest.ofBytes("blue", TestImages.bytes("palette-blue.png"), null);
    ImageRequest withReply =
        new ImageRequest(
            blue.id(),
            "blue",
            blue.bytes(),
            null,
            address.replyPrefix() + blue.id(),
            System.nanoTime());
    try (RedisRequests producer = new RedisBroker(address).producer();
        RedisResults results = new RedisBroker(address).results()) {
      producer.send(withReply, Duration.ofSeconds(5));
      ClassifyResult r =
          results.awaitReply(address.replyPrefix() + blue.id(), Duration.ofSeconds(10));
      assertThat(r.top().label()).isEqualTo("blue");
    }
  }

  @Test
  void inSeed003sContractAnIdCannotNameTheWorkersOwnKeys() throws Exception {
    // seed 003's result keys are the bare ids a producer chooses
    RedisServer server = redis(false);
    RedisConfig address = RedisConfig.parse(server.uri("profile=seed003"));
    worker(address, new MeanColourClassifier(32, 32), 4);
    byte[] blue = TestImages.bytes("palette-blue.png");
    List<String> hostile =
        List.of("image_queue", "image_queue:deliveries", "conveyor:dead", "conveyor:results");
    try (RedisRequests producer = new RedisBroker(address).producer()) {
      for (String id : hostile) {
        producer.send(
            new ImageRequest(id, id, blue, null, null, System.nanoTime()), Duration.ofSeconds(5));
      }
      producer.send(
          new ImageRequest("after", "after", blue, null, null, System.nanoTime()),
          Duration.ofSeconds(5));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (server.cli("GET", "after").stream().noneMatch(l -> l.contains("blue"))) {
      assertThat(System.nanoTime()).as("the request after them is answered").isLessThan(deadline);
      Thread.sleep(50);
    }
    assertThat(server.cli("TYPE", "image_queue").get(0)).isIn("none", "list");
    assertThat(server.cli("TYPE", "image_queue:deliveries").get(0)).isIn("none", "hash");
    assertThat(server.cli("TYPE", "conveyor:dead").get(0)).isIn("none", "stream");
    assertThat(server.cli("TYPE", "conveyor:results").get(0)).isEqualTo("stream");
    assertThat(server.cli("XLEN", "conveyor:results").get(0))
        .as("every result is still in the results stream")
        .isEqualTo("5");
  }

  @Test
  void listWorkersNameThemselvesAndAProcessingListOfAWorkerNamedNowhereIsStillRecovered()
      throws Exception {
    RedisServer server = redis(false);
    RedisConfig address = RedisConfig.parse(server.uri("mode=list&heartbeat=2"));
    // what a killed worker of an earlier version, which named itself nowhere, left held
    ImageRequest held = ImageRequest.ofBytes(COLOURS[0], TestImages.bytes(COLOURS[0]), null);
    try (RedisConnections c = new RedisConnections(address)) {
      c.sync()
          .lpush(
              RequestCodec.bytes(ListRecovery.processingKey(address, "old-worker")),
              RequestCodec.toJson(held));
    }
    worker(address, new MeanColourClassifier(32, 32), 4);
    assertColours(awaitResults(address, List.of(held.id()), Duration.ofSeconds(20)));
    // the new worker is named in the list of workers, and found there once killed
    List<String> named = server.cli("LRANGE", "conveyor:images:workers", "0", "-1");
    assertThat(named).hasSize(1);
    assertThat(named.get(0)).doesNotContain("old-worker");
  }

  @Test
  void redisRestartedMidRunLosesNothing() throws Exception {
    RedisServer server = redis(true);
    RedisConfig address = RedisConfig.parse(server.uri("mode=list"));
    List<String> ids = produce(address, 40);
    worker(address, new MeanColourClassifier(32, 32).slow(100), 4);
    Thread.sleep(400);
    server.restart();
    assertColours(awaitResults(address, ids, Duration.ofSeconds(60)));
  }

  @Test
  void aProducerRidesOutARedisRestart() throws Exception {
    RedisServer server = redis(true);
    RedisConfig address = RedisConfig.parse(server.uri("mode=stream&claim-idle=2"));
    worker(address, new MeanColourClassifier(32, 32), 4);
    List<String> ids = new ArrayList<>();
    Thread restart =
        new Thread(
            () -> {
              try {
                server.restartAfter(Duration.ofMillis(1500));
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    long sendingWhileDown = 0;
    try (RedisRequests producer = new RedisBroker(address).producer()) {
      for (int i = 0; i < 30; i++) {
        if (i == 10) {
          restart.start();
          while (server.running()) {
            Thread.sleep(5);
          }
        }
        ImageRequest r =
            ImageRequest.ofBytes(COLOURS[i % 3], TestImages.bytes(COLOURS[i % 3]), null);
        long start = System.nanoTime();
        producer.send(r, Duration.ofSeconds(30));
        sendingWhileDown = Math.max(sendingWhileDown, System.nanoTime() - start);
        ids.add(r.id());
      }
    }
    restart.join();
    assertThat(Duration.ofNanos(sendingWhileDown))
        .as("a send waited for Redis to come back")
        .isGreaterThan(Duration.ofMillis(500));
    assertColours(awaitResults(address, ids, Duration.ofSeconds(60)));
  }

  @Test
  void aProducerThatIsNotConveyorIsServed() throws Exception {
    RedisServer server = redis(false);
    RedisConfig list = RedisConfig.parse(server.uri(""));
    RedisConfig stream = RedisConfig.parse(server.uri("mode=stream&images=conveyor:images:stream"));
    worker(list, new MeanColourClassifier(32, 32), 4);
    worker(stream, new MeanColourClassifier(32, 32), 4);
    String b64 = Base64.getEncoder().encodeToString(TestImages.bytes("palette-blue.png"));
    redisCli(
        server,
        null,
        "RPUSH",
        "conveyor:images",
        "{\"id\":\"from-cli\",\"image\":\"" + b64 + "\"}");
    Path image = dir.resolve("red.jpg");
    Files.write(image, TestImages.bytes("cmyk-red.jpg"));
    redisCli(
        server,
        image,
        "-x",
        "XADD",
        "conveyor:images:stream",
        "*",
        "id",
        "from-cli-stream",
        "image");
    List<ClassifyResult> r =
        awaitResults(list, List.of("from-cli", "from-cli-stream"), Duration.ofSeconds(10));
    assertThat(r.get(0).top().label()).isEqualTo("blue");
    assertThat(r.get(1).top().label()).isEqualTo("red");
    assertThat(Json.write(r.get(0))).contains("\"host\"");
  }

  private static void redisCli(RedisServer server, Path stdin, String... args) throws Exception {
    List<String> command =
        new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(server.port())));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    if (stdin != null) {
      pb.redirectInput(stdin.toFile());
    }
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("redis-cli: " + out).isZero();
    assertThat(out).doesNotContain("ERR");
  }
}
