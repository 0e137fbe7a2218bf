package dev.conveyor.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Delivery;
import dev.conveyor.core.transport.KeyTable;
import dev.conveyor.core.transport.PositionStore;
import dev.conveyor.core.transport.Replies;
import dev.conveyor.core.transport.Requests;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Results;
import dev.conveyor.core.transport.Transport;
import dev.conveyor.testing.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** PostgreSQL as queue and results table, on a real server. */
@Timeout(120)
class PostgresBrokerIT {
  private static PostgresServer server;

  @BeforeAll
  static void start() throws Exception {
    server = PostgresServer.start();
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static ImageRequest request(String id) {
    return new ImageRequest(id, id + ".png", new byte[] {1, 2, 3}, "image/png", null, 0);
  }

  private static ClassifyResult ok(ImageRequest r, String label) {
    return ClassifyResult.ok(r, "m", List.of(new Prediction(3, label, 0.75f)), "host-a", 12.5);
  }

  private static long count(String sql) throws SQLException {
    try (Connection c = server.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @Test
  void requestsGoThroughTheQueueOnceEachAndResultsLandInTheTableOnce() throws Exception {
    Broker broker = Brokers.open(server.uri("table=q1&results=r1"));
    try (Requests p = broker.producer()) {
      for (int i = 0; i < 300; i++) {
        p.send(request("q1-" + i), Duration.ofSeconds(5));
      }
      assertThat(p.flush(Duration.ofSeconds(5))).isEmpty();
    }
    assertThat(count("SELECT count(*) FROM q1")).isEqualTo(300);
    // two workers at once: SKIP LOCKED hands each row to one of them
    Set<String> seen = ConcurrentHashMap.newKeySet();
    List<String> twice = new ArrayList<>();
    ExecutorService pool = Executors.newFixedThreadPool(2);
    List<Future<?>> workers = new ArrayList<>();
    for (int w = 0; w < 2; w++) {
      workers.add(
          pool.submit(
              () -> {
                try (Transport t = broker.transport(16);
                    ResultSink sink = broker.sink()) {
                  while (true) {
                    List<Delivery> batch = t.poll(16, Duration.ofMillis(500));
                    if (batch.isEmpty()) {
                      return null;
                    }
                    List<ImageRequest> rs = batch.stream().map(Delivery::request).toList();
                    for (ImageRequest r : rs) {
                      if (!seen.add(r.id())) {
                        synchronized (twice) {
                          twice.add(r.id());
                        }
                      }
                    }
                    sink.deliver(rs, rs.stream().map(r -> ok(r, "cat")).toList());
                    t.ack(batch);
                  }
                }
              }));
    }
    for (Future<?> f : workers) {
      f.get();
    }
    pool.shutdown();
    assertThat(twice).isEmpty();
    assertThat(seen).hasSize(300);
    assertThat(count("SELECT count(*) FROM q1")).as("acknowledged rows are gone").isZero();
    assertThat(count("SELECT count(*) FROM r1")).isEqualTo(300);
    assertThat(count("SELECT count(*) FROM r1 WHERE category = 'cat' AND hostname = 'host-a'"))
        .isEqualTo(300);

    // a redelivered request's result adds no second row
    try (ResultSink sink = broker.sink()) {
      ImageRequest again = request("q1-7");
      sink.deliver(List.of(again), List.of(ok(again, "dog")));
    }
    assertThat(count("SELECT count(*) FROM r1")).isEqualTo(300);
    assertThat(count("SELECT count(*) FROM r1 WHERE category = 'dog'")).isZero();

    try (Results reader = broker.results()) {
      ClassifyResult r = reader.get("q1-7");
      assertThat(r.isOk()).isTrue();
      assertThat(r.top().label()).isEqualTo("cat");
      assertThat(r.top().index()).isEqualTo(3);
      assertThat(r.host()).isEqualTo("host-a");
      assertThat(r.source()).isEqualTo("q1-7.png");
      assertThat(reader.get("none")).isNull();
      List<String> all = new ArrayList<>();
      reader.stored(all::add);
      assertThat(all).hasSize(300);
    }
  }

  @Test
  void aRowWhoseLeaseRunsOutIsTakenAgainAndAPoisonRowEndsDead() throws Exception {
    Broker broker = Brokers.open(server.uri("table=q2&results=r2&lease=1&max-deliveries=2"));
    try (Requests p = broker.producer()) {
      for (int i = 0; i < 5; i++) {
        p.send(request("q2-" + i), Duration.ofSeconds(5));
      }
      p.flush(Duration.ofSeconds(5));
    }
    String poison;
    try (Transport dies = broker.transport(16);
        Transport lives = broker.transport(16)) {
      List<Delivery> held = dies.poll(16, Duration.ofSeconds(5));
      assertThat(held).hasSize(5).allSatisfy(d -> assertThat(d.attempt()).isEqualTo(1));
      assertThat(count("SELECT count(*) FROM q2 WHERE visible_at > now()"))
          .as("leased, in flight")
          .isEqualTo(5);
      // while the lease holds, nobody else gets them
      assertThat(lives.poll(16, Duration.ofMillis(300))).isEmpty();
      // the holder never acknowledges: once the lease runs out the rows come again
      List<Delivery> again = new ArrayList<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (again.size() < 5 && System.nanoTime() < deadline) {
        again.addAll(lives.poll(16, Duration.ofSeconds(1)));
      }
      assertThat(again).hasSize(5).allSatisfy(d -> assertThat(d.attempt()).isEqualTo(2));
      // four are answered; the fifth, a poison row, is failed again: over max-deliveries it dies
      poison = again.get(4).request().id();
      lives.ack(again.subList(0, 4));
      lives.release(again.subList(4, 5), "the model failed: it crashes on this one");
      assertThat(lives.poll(16, Duration.ofSeconds(2))).isEmpty();
    }
    assertThat(count("SELECT count(*) FROM q2 WHERE state = 'queued'")).isZero();
    try (Connection c = server.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery("SELECT id, deliveries, error FROM q2 WHERE state = 'dead'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo(poison);
      assertThat(rs.getInt(2)).isEqualTo(2);
      assertThat(rs.getString(3)).isEqualTo("the model failed: it crashes on this one");
      assertThat(rs.next()).isFalse();
    }
  }

  @Test
  void aRowLeasedTooOftenWithoutAResultIsGivenUpOn() throws Exception {
    Broker broker = Brokers.open(server.uri("table=q3&lease=1&max-deliveries=2"));
    try (Requests p = broker.producer()) {
      p.send(request("q3-poison"), Duration.ofSeconds(5));
      p.flush(Duration.ofSeconds(5));
    }
    try (Transport t = broker.transport(1)) {
      assertThat(t.poll(1, Duration.ofSeconds(5))).hasSize(1);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      List<Delivery> second = List.of();
      while (second.isEmpty() && System.nanoTime() < deadline) {
        second = t.poll(1, Duration.ofSeconds(1));
      }
      assertThat(second).hasSize(1).allSatisfy(d -> assertThat(d.attempt()).isEqualTo(2));
      // its worker dies twice: the third take gives it up instead of delivering it
      Thread.sleep(1100);
      assertThat(t.poll(1, Duration.ofMillis(500))).isEmpty();
    }
    assertThat(
            count(
                "SELECT count(*) FROM q3 WHERE state = 'dead' AND error LIKE 'gave up after 2 deliveries%'"))
        .isEqualTo(1);
  }

  @Test
  void aFullQueueAnswersBusy() throws Exception {
    Broker broker = Brokers.open(server.uri("table=q4&max-length=3"));
    try (Requests p = broker.producer()) {
      for (int i = 0; i < 3; i++) {
        p.send(request("q4-" + i), Duration.ofSeconds(1));
      }
      assertThatThrownBy(() -> p.send(request("q4-x"), Duration.ofMillis(300)))
          .isInstanceOfSatisfying(
              ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BUSY));
      p.flush(Duration.ofSeconds(5));
    }
    assertThat(count("SELECT count(*) FROM q4")).isEqualTo(3);
  }

  @Test
  void offsetsMoveWithTheirResultsAndOnlyFromWhereTheirBatchBegan() throws Exception {
    String uri = server.uri("results=kafka_answers&offsets=kafka_offsets");
    try (ResultSink sink = Brokers.open(uri).sink()) {
      PositionStore store = (PositionStore) sink;
      assertThat(store.positions("g", "jobs")).isEmpty();
      ImageRequest a = request("k1");
      ImageRequest b = request("k2");
      // partitions with no offset yet are given their first
      assertThat(
              store.storeAt(
                  "g",
                  "jobs",
                  Map.of(0, 0L, 1, 5L),
                  Map.of(0, 1L, 1, 6L),
                  List.of(a, b),
                  List.of(ok(a, "cat"), ok(b, "dog"))))
          .isEmpty();
      assertThat(store.positions("g", "jobs")).isEqualTo(Map.of(0, 1L, 1, 6L));
      // a batch that began before the stored offset (a worker that lost its partition): refused,
      // nothing of it stored, and the stored offset given back to read on from
      ImageRequest c = request("k3");
      assertThat(
              store.storeAt(
                  "g", "jobs", Map.of(0, 0L), Map.of(0, 2L), List.of(c), List.of(ok(c, "cow"))))
          .isEqualTo(Map.of(0, 1L));
      assertThat(count("SELECT count(*) FROM kafka_answers WHERE image_key = 'k3'")).isZero();
      assertThat(store.positions("g", "jobs")).isEqualTo(Map.of(0, 1L, 1, 6L));
      assertThat(
              store.storeAt(
                  "g", "jobs", Map.of(0, 1L), Map.of(0, 2L), List.of(c), List.of(ok(c, "cow"))))
          .isEmpty();
      assertThat(count("SELECT count(*) FROM kafka_answers WHERE image_key = 'k3'")).isOne();
      assertThat(count("SELECT count(*) FROM kafka_answers")).isEqualTo(3);
      // a batch handed back whole (its requests sent again) moves its offsets with no results
      assertThat(store.storeAt("g", "jobs", Map.of(1, 6L), Map.of(1, 9L), List.of(), List.of()))
          .isEmpty();
      assertThat(store.positions("g", "jobs")).isEqualTo(Map.of(0, 2L, 1, 9L));
      // each consumer group has offsets of its own
      assertThat(store.positions("other", "jobs")).isEmpty();
    }
  }

  @Test
  void aSeedStyleTableOfTheUsersGetsItsColumnsTimeAndErrorsAndNoDuplicates() throws Exception {
    try (Connection c = server.connect();
        Statement s = c.createStatement()) {
      // as the seed makes it: no key, no defaults (its consumer writes time itself)
      s.execute(
          "CREATE TABLE seed_results (image_key TEXT, category TEXT, confidence REAL,"
              + " hostname TEXT, time TIMESTAMP)");
    }
    Broker broker = Brokers.open(server.uri("results=seed_results&key-prefix=s3://images/"));
    ImageRequest a = request("seed-a");
    ImageRequest b = request("seed-b");
    List<String> followed = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean following =
        new java.util.concurrent.atomic.AtomicBoolean(true);
    // the worker and the dashboard on hosts in different time zones: the driver gives each
    // session its JVM's zone
    java.util.TimeZone zone = java.util.TimeZone.getDefault();
    java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("America/Los_Angeles"));
    try (Results reader = broker.results();
        Results watcher = broker.results();
        ResultSink sink = broker.sink()) {
      // the sink's sessions are made here, in Los Angeles; the dashboard's in Auckland
      ImageRequest early = request("seed-0");
      sink.deliver(List.of(early), List.of(ok(early, "bin")));
      java.util.TimeZone.setDefault(java.util.TimeZone.getTimeZone("Pacific/Auckland"));
      Thread follower = new Thread(() -> watcher.follow(following::get, followed::add));
      follower.start();
      long connected = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (count(
                  "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'conveyor follow'")
              == 0
          && System.nanoTime() < connected) {
        Thread.sleep(20);
      }
      {
        sink.deliver(
            List.of(a, b),
            List.of(
                ok(a, "bin"),
                ClassifyResult.error(b, ErrorCode.CORRUPT, "truncated", "host-b", 1.0)));
        sink.deliver(List.of(a), List.of(ok(a, "bin")));
      }
      assertThat(count("SELECT count(*) FROM seed_results")).isEqualTo(3);
      assertThat(count("SELECT count(*) FROM seed_results WHERE category = 'bin'")).isEqualTo(2);
      assertThat(
              count(
                  "SELECT count(*) FROM seed_results WHERE abs(extract(epoch FROM"
                      + " (now() AT TIME ZONE 'UTC') - time)) < 60"))
          .as("times in UTC, whatever the writer's zone")
          .isEqualTo(3);
      assertThat(count("SELECT count(*) FROM seed_results WHERE time IS NULL")).isZero();
      assertThat(count("SELECT count(*) FROM seed_results WHERE hostname IS NULL")).isZero();
      assertThat(reader.get("seed-a").top().label()).isEqualTo("bin");
      assertThat(reader.get("seed-a").source()).isEqualTo("s3://images/seed-a");
      ClassifyResult error = reader.get("seed-b");
      assertThat(error.host()).isEqualTo("host-b");
      assertThat(error.isOk()).as("a row with no category reads back as an error").isFalse();
      List<String> stored = new ArrayList<>();
      reader.stored(stored::add);
      assertThat(stored).hasSize(3).anyMatch(j -> j.contains("\"status\":\"error\""));
      // the follower, in another zone, saw both rows stored after it started, each once
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      while (followed.stream().filter(j -> !j.contains("seed-0")).count() < 2
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(followed.stream().filter(j -> !j.contains("seed-0")))
          .hasSize(2)
          .anyMatch(j -> j.contains("seed-a"))
          .anyMatch(j -> j.contains("seed-b"));
      following.set(false);
      follower.join(10_000);
    } finally {
      java.util.TimeZone.setDefault(zone);
    }
  }

  @Test
  void rowsAUserInsertsWithoutASourceAreTakenWithTheRest() throws Exception {
    Broker broker = Brokers.open(server.uri("table=hand&results=hand_results"));
    try (Requests p = broker.producer()) {
      p.send(request("hand-0"), Duration.ofSeconds(5));
      assertThat(p.flush(Duration.ofSeconds(5))).isEmpty();
    }
    try (Connection c = server.connect();
        Statement s = c.createStatement()) {
      s.execute("INSERT INTO hand (id, image) VALUES ('hand-1', '\\x010203')");
      s.execute("INSERT INTO hand (id) VALUES ('hand-2')");
    }
    try (Transport t = broker.transport(8)) {
      List<Delivery> batch = t.poll(8, Duration.ofSeconds(2));
      assertThat(batch)
          .extracting(d -> d.request().id())
          .containsExactly("hand-0", "hand-1", "hand-2");
      ImageRequest bytes = batch.get(1).request();
      assertThat(bytes.hasBytes()).isTrue();
      assertThat(bytes.source()).startsWith("hand row ");
      ImageRequest nothing = batch.get(2).request();
      assertThat(nothing.contentType()).isEqualTo(ImageRequest.UNREADABLE);
      assertThat(new String(nothing.bytes(), java.nio.charset.StandardCharsets.UTF_8))
          .contains("neither an image nor a source");
    }
  }

  @Test
  void requestsNameTheirModelAndAQueueMadeBeforeTheColumnGetsIt() throws Exception {
    // a queue as an earlier Conveyor made it, with a request already waiting in it
    try (Connection c = server.connect();
        Statement s = c.createStatement()) {
      s.execute(
          """
          CREATE TABLE older (
            seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL, source TEXT, image BYTEA,
            content_type TEXT, reply_to TEXT, state TEXT NOT NULL DEFAULT 'queued',
            deliveries INT NOT NULL DEFAULT 0, visible_at TIMESTAMPTZ NOT NULL DEFAULT now(),
            worker TEXT, error TEXT, created_at TIMESTAMPTZ NOT NULL DEFAULT now())""");
      s.execute("INSERT INTO older (id, image) VALUES ('waiting', '\\x010203')");
    }
    Broker broker = Brokers.open(server.uri("table=older&results=older_results"));
    try (Requests p = broker.producer()) {
      p.send(request("named").withModel("colours"), Duration.ofSeconds(5));
      p.send(request("default"), Duration.ofSeconds(5));
      assertThat(p.flush(Duration.ofSeconds(5))).isEmpty();
    }
    try (Connection c = server.connect();
        Statement s = c.createStatement()) {
      // a user's own insert names its model the same way
      s.execute("INSERT INTO older (id, image, model) VALUES ('by-hand', '\\x01', 'other')");
    }
    try (Transport t = broker.transport(8)) {
      List<Delivery> batch = t.poll(8, Duration.ofSeconds(2));
      assertThat(batch)
          .extracting(d -> d.request().id() + ":" + d.request().model())
          .containsExactly("waiting:null", "named:colours", "default:null", "by-hand:other");
    }
  }

  @Test
  void aTableWithNoTimeCannotBeFollowedAndSaysSo() throws Exception {
    try (Connection c = server.connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE timeless (image_key TEXT, category TEXT)");
    }
    try (Results reader = Brokers.open(server.uri("results=timeless")).results()) {
      assertThatThrownBy(() -> reader.follow(() -> true, json -> {}))
          .isInstanceOf(ConveyorException.class)
          .hasMessageContaining("timeless has no time column of a timestamp type")
          .hasMessageContaining("ADD COLUMN time");
    }
  }

  @Test
  void aReplyClientGetsEachResultOnceAWorkerStoresIt() throws Exception {
    Broker broker = Brokers.open(server.uri("table=q5&results=r5"));
    List<ClassifyResult> got = new ArrayList<>();
    try (Replies client = broker.client();
        Transport t = broker.transport(8);
        ResultSink sink = broker.sink()) {
      client.send(request("q5-a"), Duration.ofSeconds(5));
      client.send(request("q5-b"), Duration.ofSeconds(5));
      List<Delivery> batch = t.poll(8, Duration.ofSeconds(5));
      assertThat(batch).hasSize(2);
      List<ImageRequest> rs = batch.stream().map(Delivery::request).toList();
      sink.deliver(rs, rs.stream().map(r -> ok(r, "fish")).toList());
      t.ack(batch);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (got.size() < 2 && System.nanoTime() < deadline) {
        client.poll(got::add);
      }
      client.poll(got::add);
    }
    Set<String> ids = new HashSet<>();
    got.forEach(r -> ids.add(r.id()));
    assertThat(got).hasSize(2);
    assertThat(ids).containsExactlyInAnyOrder("q5-a", "q5-b");
    assertThat(Json.write(got.get(0))).contains("\"fish\"");
  }

  @Test
  void keysAreReadFromATableAsReferencesAndOnlyNewOnesWhenAsked() throws Exception {
    KeyTable keys =
        Brokers.open(
                server.uri("table=image_info&column=image_key&key-prefix=s3://images/&results=r6"))
            .keys()
            .orElseThrow();
    keys.insert(List.of("b.jpg", "a.jpg", "c.jpg"));
    keys.insert(List.of("a.jpg"));
    List<ImageRequest> all = new ArrayList<>();
    assertThat(keys.forEach(false, all::add)).isEqualTo(3);
    assertThat(all).extracting(ImageRequest::id).containsExactly("a.jpg", "b.jpg", "c.jpg");
    assertThat(all)
        .extracting(ImageRequest::source)
        .containsExactly("s3://images/a.jpg", "s3://images/b.jpg", "s3://images/c.jpg");
    assertThat(all).allSatisfy(r -> assertThat(r.hasBytes()).isFalse());
    try (ResultSink sink = Brokers.open(server.uri("results=r6")).sink()) {
      sink.deliver(List.of(all.get(1)), List.of(ok(all.get(1), "x")));
    }
    List<ImageRequest> fresh = new ArrayList<>();
    assertThat(keys.count(true)).isEqualTo(2);
    keys.forEach(true, fresh::add);
    assertThat(fresh).extracting(ImageRequest::id).containsExactly("a.jpg", "c.jpg");
  }

  @Test
  void aPasswordFromAFileOrTheDriversPgpassLogsInAUserThatNeedsOne(@TempDir Path dir)
      throws Exception {
    String user = PostgresServer.PASSWORD_USER;
    try (Connection c = server.connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE ROLE " + user + " LOGIN PASSWORD 'pg-pass-5'");
      s.execute("GRANT CREATE ON SCHEMA public TO " + user);
    }
    String jdbc = "jdbc:postgresql://127.0.0.1:" + server.port() + "/conveyor";
    assertThatThrownBy(() -> DriverManager.getConnection(jdbc, user, "nope-5").close())
        .as("the user needs its password")
        .hasMessageContaining("password authentication failed");
    String uri = "postgresql://%s@127.0.0.1:%d/conveyor?table=kept".formatted(user, server.port());
    Path file = Files.writeString(dir.resolve("pg-password"), "pg-pass-5\n");
    sendOne(uri + "&password-file=" + file, "from-file");
    Path pgpass =
        Files.writeString(
            dir.resolve("pgpass"),
            "127.0.0.1:%d:conveyor:%s:pg-pass-5\n".formatted(server.port(), user));
    Files.setPosixFilePermissions(pgpass, PosixFilePermissions.fromString("rw-------"));
    System.setProperty("org.postgresql.pgpassfile", pgpass.toString());
    try {
      sendOne(uri, "from-pgpass");
    } finally {
      System.clearProperty("org.postgresql.pgpassfile");
    }
    assertThat(count("SELECT count(*) FROM kept")).isEqualTo(2);
  }

  private static void sendOne(String uri, String id) throws Exception {
    try (Requests p = Brokers.open(uri).producer()) {
      p.send(request(id), Duration.ofSeconds(15));
      assertThat(p.flush(Duration.ofSeconds(15))).isEmpty();
    }
  }

  @Test
  void theAddressNeverShowsItsPassword() {
    Broker broker =
        Brokers.open("postgresql://alice:s3cr%21t@127.0.0.1:" + server.port() + "/conveyor");
    assertThat(broker.describe()).contains("alice@127.0.0.1").doesNotContain("s3cr");
    assertThatThrownBy(
            () -> {
              try (Requests p = broker.producer()) {
                p.send(request("x"), Duration.ofSeconds(1));
              }
            })
        .hasMessageNotContaining("s3cr");
  }
}
