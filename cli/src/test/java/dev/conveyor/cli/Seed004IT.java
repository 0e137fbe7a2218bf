package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.testing.KafkaServer;
import dev.conveyor.testing.PostgresServer;
import dev.conveyor.testing.S3Server;
import dev.conveyor.testing.TestProcesses;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RoundRobinPartitioner;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seed 004's VisionScaling pipeline on real servers, with the seed's own tables (made plainly: no
 * key, no defaults) and its own producer (a plain Kafka producer sending each key as a record's
 * value): images uploaded to S3 (s3proxy) and their keys to PostgreSQL, a 3-partition topic that
 * {@code serve} makes first, two worker processes fetching from S3 and writing {@code
 * prediction_results}, watched by {@code serve}'s dashboard; and PostgreSQL alone as the queue,
 * with a worker killed while it holds leased rows.
 */
@Timeout(300)
class Seed004IT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();
  private static final List<String> GOOD =
      List.of(
          "palette-blue.png",
          "yellow.bmp",
          "gray.jpg",
          "plasma-640x480.jpg",
          "plasma-300x500.png",
          "detail-800x600.jpg",
          "alpha-orange.png",
          "tiny-gray.png");

  @TempDir Path dir;
  private final List<AutoCloseable> servers = new ArrayList<>();
  private final List<Process> workers = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (Process p : workers) {
      TestProcesses.kill(p);
    }
    for (int i = servers.size() - 1; i >= 0; i--) {
      servers.get(i).close();
    }
  }

  private Process worker(String name, String from, String... more) throws Exception {
    List<String> command =
        new ArrayList<>(List.of(ROOT.resolve("conveyor").toString(), "worker", "--from", from));
    command.addAll(List.of(more));
    ProcessBuilder b =
        new ProcessBuilder(command)
            .redirectOutput(dir.resolve(name + ".out").toFile())
            .redirectError(dir.resolve(name + ".err").toFile());
    b.environment().putAll(S3Server.environment());
    b.environment().put("HOSTNAME", name);
    Process p = b.start();
    workers.add(p);
    return p;
  }

  /** A count; 0 while the table a worker makes on its first result is not there yet. */
  private static long count(PostgresServer pg, String sql) throws SQLException {
    try (Connection c = pg.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      if ("42P01".equals(e.getSQLState())) {
        return 0;
      }
      throw e;
    }
  }

  private static void awaitCount(PostgresServer pg, String sql, long n, Process... alive)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(150);
    while (count(pg, sql) < n) {
      for (Process p : alive) {
        assertThat(p.isAlive()).as("a worker died").isTrue();
      }
      assertThat(System.nanoTime()).as("waiting for " + sql).isLessThan(deadline);
      Thread.sleep(200);
    }
  }

  @Test
  void theSeedsOwnTablesAndProducerAreKeptAndEveryRowIsComplete() throws Exception {
    PostgresServer pg = PostgresServer.start();
    servers.add(pg);
    S3Server s3 = S3Server.start(Files.createDirectories(dir.resolve("s3")));
    servers.add(s3);
    KafkaServer kafka = KafkaServer.start(Files.createDirectories(dir.resolve("kafka")));
    servers.add(kafka);
    Path images = Files.createDirectories(dir.resolve("images"));
    for (String name : GOOD) {
      Files.copy(TestImages.folder().resolve(name), images.resolve(name));
    }
    Files.copy(TestImages.folder().resolve("corrupt.jpg"), images.resolve("corrupt.jpg"));
    String[] s3Options = {
      "--s3-endpoint", s3.endpoint(), "--s3-path-style", "--s3-region", "us-east-1"
    };

    // the seed's tables, made plainly: no key, no unique index, no defaults; the seed's consumer
    // writes time itself
    try (Connection c = pg.connect();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE image_info (image_key TEXT)");
      s.execute(
          "CREATE TABLE prediction_results (image_key TEXT, category TEXT, confidence REAL,"
              + " hostname TEXT, time TIMESTAMP)");
    }

    // seed 004's upload.py: the images to S3, their keys to image_info; a rerun adds no key
    String keys = pg.uri("table=image_info&column=image_key");
    List<String> upload =
        new ArrayList<>(
            List.of(
                "upload",
                images.toString(),
                "--to",
                "s3://images/day1",
                "--keys",
                keys,
                "--create-bucket"));
    upload.addAll(List.of(s3Options));
    CliRun uploaded = CliRun.of(upload.toArray(String[]::new));
    assertThat(uploaded.exitCode()).as(uploaded.err()).isZero();
    assertThat(uploaded.err()).contains("uploaded 9 images").contains("added 9 keys");
    assertThat(Files.exists(s3.bucketFolder("images").resolve("day1/gray.jpg"))).isTrue();
    CliRun again = CliRun.of(upload.toArray(String[]::new));
    assertThat(again.exitCode()).as(again.err()).isZero();
    assertThat(again.err()).contains("added 0 keys").contains("(9 there already)");
    assertThat(count(pg, "SELECT count(*) FROM image_info")).isEqualTo(9);
    try (Connection c = pg.connect();
        Statement s = c.createStatement()) {
      // a key whose object is not there
      s.execute("INSERT INTO image_info VALUES ('day1/missing.jpg')");
    }

    // one Kafka URI for every command; the seed's producer sends bare keys
    String topic = kafka.uri("topic=img_loc&partitions=3&requests=keys&key-prefix=s3://images/");
    String sink = pg.uri("results=prediction_results&key-prefix=s3://images/");
    // the UI first: serve in front of the topic (it makes the topic), its dashboard following
    // the results table
    List<String> serveOptions =
        new ArrayList<>(List.of("--transport", topic, "--dashboard-from", sink));
    serveOptions.addAll(List.of(s3Options));
    ServeProcess ui =
        ServeProcess.start(ROOT, dir, S3Server.environment(), serveOptions.toArray(String[]::new));
    servers.add(ui);
    assertThat(partitions(kafka, "img_loc")).as("the topic serve made").isEqualTo(3);

    // two consumers in one group, on two hosts, writing prediction_results
    String[] workerOptions = new String[s3Options.length + 2];
    workerOptions[0] = "--sink";
    workerOptions[1] = sink;
    System.arraycopy(s3Options, 0, workerOptions, 2, s3Options.length);
    Process a = worker("host-a", topic, workerOptions);
    Process b = worker("host-b", topic, workerOptions);
    awaitGroupOf(kafka, 2);
    assertThat(partitions(kafka, "img_loc")).isEqualTo(3);

    // seed 004's producer, as it is: each key of image_info as a record's value, no key, no
    // headers
    List<String> imageKeys = new ArrayList<>();
    try (Connection c = pg.connect();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT image_key FROM image_info")) {
      while (rs.next()) {
        imageKeys.add(rs.getString(1));
      }
    }
    assertThat(imageKeys).hasSize(10);
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.uri("").substring(8));
    // records with no key spread over the partitions, as librdkafka's default partitioner (the
    // seed's confluent-kafka) spreads them; Java's sticky default would fill one partition
    p.put(ProducerConfig.PARTITIONER_CLASS_CONFIG, RoundRobinPartitioner.class.getName());
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      for (String key : imageKeys) {
        producer.send(new ProducerRecord<>("img_loc", key)).get(30, TimeUnit.SECONDS);
      }
    }
    awaitCount(pg, "SELECT count(*) FROM prediction_results", 10, a, b);

    // every key once, with classify's answer for the same file; every row has its time and host
    CliRun classify = CliRun.of("classify", images.toString());
    Map<String, JsonNode> expected = new HashMap<>();
    for (JsonNode r : classify.jsonLines()) {
      expected.put("day1/" + Path.of(r.get("source").asText()).getFileName(), r);
    }
    Set<String> hosts = new HashSet<>();
    try (Connection c = pg.connect();
        Statement s = c.createStatement();
        ResultSet rs =
            s.executeQuery(
                "SELECT image_key, category, confidence, hostname, time,"
                    + " abs(extract(epoch FROM (now() AT TIME ZONE 'UTC') - time)) AS age"
                    + " FROM prediction_results")) {
      int rows = 0;
      while (rs.next()) {
        rows++;
        String key = rs.getString("image_key");
        hosts.add(rs.getString("hostname"));
        assertThat(rs.getTimestamp("time")).as(key + "'s time").isNotNull();
        assertThat(rs.getDouble("age")).as(key + "'s time is now's, in UTC").isLessThan(300);
        JsonNode want = expected.get(key);
        if (key.equals("day1/missing.jpg") || key.equals("day1/corrupt.jpg")) {
          assertThat(rs.getString("category")).as(key).isNull();
          continue;
        }
        assertThat(want).as(key).isNotNull();
        assertThat(rs.getString("category"))
            .as(key)
            .isEqualTo(want.at("/predictions/0/label").asText());
        assertThat(rs.getDouble("confidence"))
            .isCloseTo(want.at("/predictions/0/score").asDouble(), within(1e-4));
      }
      assertThat(rows).isEqualTo(10);
    }
    assertThat(hosts).as("both consumers wrote rows").containsExactlyInAnyOrder("host-a", "host-b");
    assertThat(Files.readString(dir.resolve("host-a.err")))
        .as("the sink says at start what the table cannot keep")
        .contains("prediction_results has no error_code column")
        .as("the topic has the partitions every URI asks for")
        .doesNotContain("partitions=3 asks for");

    // produce again, only keys with no result: nothing to send
    CliRun onlyNew =
        CliRun.of(
            "produce",
            "--from-table",
            keys + "&key-prefix=s3://images/&results=prediction_results",
            "--only-new",
            "--to",
            topic);
    assertThat(onlyNew.exitCode()).as(onlyNew.err()).isZero();
    assertThat(onlyNew.err()).startsWith("sent 0 keys");

    // the table read back: errors as errors
    CliRun results = CliRun.of("results", "--from", sink);
    assertThat(results.exitCode()).as(results.err()).isZero();
    Map<String, String> status = new HashMap<>();
    for (JsonNode r : results.jsonLines()) {
      status.put(r.get("id").asText(), r.get("status").asText());
    }
    assertThat(status).hasSize(10);
    assertThat(status.get("day1/missing.jpg")).isEqualTo("error");
    assertThat(status.get("day1/corrupt.jpg")).isEqualTo("error");
    assertThat(status.values().stream().filter("ok"::equals).count()).isEqualTo(8);

    dashboardShows(ui, images);
    assertThat(partitions(kafka, "img_loc")).isEqualTo(3);
  }

  private static int partitions(KafkaServer kafka, String topic) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.uri("").substring(8));
    try (Admin admin = Admin.create(p)) {
      return admin
          .describeTopics(List.of(topic))
          .allTopicNames()
          .get(30, TimeUnit.SECONDS)
          .get(topic)
          .partitions()
          .size();
    }
  }

  /** What the web page shows: all ten results, per worker host, with their images from S3. */
  private static void dashboardShows(ServeProcess ui, Path images) throws Exception {
    assertThat(ui.getJson("/v1/info").get("results_from").asText()).contains("prediction_results");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    JsonNode stats = ui.getJson("/v1/stats");
    while (stats.at("/totals/ok").asLong() + stats.at("/totals/errors").asLong() < 10) {
      assertThat(System.nanoTime()).as(stats.toString()).isLessThan(deadline);
      Thread.sleep(200);
      stats = ui.getJson("/v1/stats");
    }
    assertThat(stats.at("/totals/ok").asLong()).isEqualTo(8);
    assertThat(stats.at("/totals/errors").asLong()).isEqualTo(2);
    Map<String, Long> perHost = new HashMap<>();
    stats
        .get("workers")
        .forEach(w -> perHost.put(w.get("name").asText(), w.get("results").asLong()));
    assertThat(perHost.keySet()).containsExactlyInAnyOrder("host-a", "host-b");
    assertThat(perHost.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(10);

    JsonNode recent = ui.getJson("/v1/recent").get("results");
    assertThat(recent).hasSize(10);
    Map<String, JsonNode> bySource = new HashMap<>();
    recent.forEach(r -> bySource.put(r.get("source").asText(), r));
    JsonNode gray = bySource.get("s3://images/day1/gray.jpg");
    assertThat(gray.at("/predictions/0/label").asText()).isNotEmpty();
    HttpResponse<byte[]> image =
        ui.http.send(
            HttpRequest.newBuilder(URI.create(ui.base + gray.get("image").asText())).build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(image.headers().firstValue("Content-Type")).hasValue("image/jpeg");
    assertThat(image.body()).isEqualTo(Files.readAllBytes(images.resolve("gray.jpg")));
    JsonNode missing = bySource.get("s3://images/day1/missing.jpg");
    assertThat(missing.get("status").asText()).isEqualTo("error");
    assertThat(ui.get(missing.get("image").asText()).statusCode()).isEqualTo(404);
  }

  private static void awaitGroupOf(KafkaServer kafka, int members) throws Exception {
    Properties p = new Properties();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.uri("").substring(8));
    try (Admin admin = Admin.create(p)) {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline) {
        try {
          var group = admin.describeConsumerGroups(List.of("conveyor")).all().get().get("conveyor");
          if (group.members().size() == members
              && group.members().stream()
                  .allMatch(m -> !m.assignment().topicPartitions().isEmpty())) {
            return;
          }
        } catch (java.util.concurrent.ExecutionException notYet) {
          // the group is not there yet
        }
        Thread.sleep(200);
      }
      throw new AssertionError("the consumer group never had " + members + " members");
    }
  }

  @Test
  void postgresAloneIsTheQueueAndAKilledWorkersLeasedRowsAreAnsweredByAnother() throws Exception {
    PostgresServer pg = PostgresServer.start();
    servers.add(pg);
    Path images = Files.createDirectories(dir.resolve("images"));
    for (int i = 0; i < 400; i++) {
      String name = GOOD.get(i % GOOD.size());
      Files.copy(TestImages.folder().resolve(name), images.resolve("%03d-%s".formatted(i, name)));
    }
    String queue = pg.uri("table=jobs&results=answers&lease=3");
    CliRun produced = CliRun.of("produce", "--to", queue, images.toString());
    assertThat(produced.exitCode()).as(produced.err()).isZero();
    assertThat(count(pg, "SELECT count(*) FROM jobs")).isEqualTo(400);

    Process victim = worker("victim", queue, "--batch", "4", "--linger-ms", "20");
    // kill it while it holds leased rows: work in flight, not yet answered
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    long held = 0;
    while (held == 0 && System.nanoTime() < deadline) {
      held =
          count(
              pg, "SELECT count(*) FROM jobs WHERE worker LIKE 'victim/%' AND visible_at > now()");
    }
    TestProcesses.kill(victim);
    long inFlight =
        count(pg, "SELECT count(*) FROM jobs WHERE worker LIKE 'victim/%' AND visible_at > now()");
    assertThat(inFlight).as("rows leased by the killed worker").isPositive();
    long answeredBefore = count(pg, "SELECT count(*) FROM answers");
    assertThat(answeredBefore).isLessThan(400);

    Process a = worker("host-a", queue);
    Process b = worker("host-b", queue);
    awaitCount(pg, "SELECT count(*) FROM answers", 400, a, b);
    awaitCount(pg, "SELECT 400 - count(*) FROM jobs", 400, a, b);
    assertThat(count(pg, "SELECT count(*) FROM answers WHERE status = 'ok'")).isEqualTo(400);
    assertThat(count(pg, "SELECT count(*) FROM jobs WHERE state = 'dead'")).isZero();
    assertThat(count(pg, "SELECT count(*) FROM answers WHERE hostname IN ('host-a', 'host-b')"))
        .as("the killed worker's rows answered by the others")
        .isGreaterThanOrEqualTo(inFlight);
  }
}
