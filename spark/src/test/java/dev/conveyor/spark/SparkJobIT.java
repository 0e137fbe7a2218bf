package dev.conveyor.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.assembly.Pipelines;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.fetch.FetchAllow;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Requests;
import dev.conveyor.core.transport.Results;
import dev.conveyor.redis.TestRedisClient;
import dev.conveyor.testing.KafkaServer;
import dev.conveyor.testing.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The query on Spark's {@code local[2]}: a folder of good and broken images streamed in. */
@Timeout(240)
class SparkJobIT {
  static final String MODEL =
      Path.of("..", "models", "fashion-mnist.onnx").toAbsolutePath().normalize().toString();
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("conveyor test")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate();
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  @Test
  void aFolderIsAnsweredOnceEachAsClassifyWouldAnswer(@TempDir Path dir) throws Exception {
    Path folder = TestImages.folder();
    Map<String, String> pipeline = Map.of("model", MODEL, "batch", "4");
    Map<String, String> settings = new HashMap<>(pipeline);
    settings.put("source", folder.toString());
    settings.put("checkpoints", dir.resolve("checkpoints").toString());
    List<JsonNode> results = new ArrayList<>();
    List<String> warnings = new ArrayList<>();
    Engine.Report report =
        SparkJob.of(settings)
            .run(
                spark,
                new Engine.Listener() {
                  @Override
                  public void result(String json) {
                    results.add(Json.read(json, JsonNode.class));
                  }

                  @Override
                  public void warning(String line) {
                    warnings.add(line);
                  }
                });

    // Spark's file sources skip empty files: empty.jpg, which classify answers EMPTY, is not read,
    // and the run says so
    List<Path> files =
        ImageFiles.expand(List.of(folder)).stream().filter(f -> f.toFile().length() > 0).toList();
    long empty = ImageFiles.expand(List.of(folder)).size() - files.size();
    assertThat(empty).isPositive();
    assertThat(warnings)
        .containsExactly(
            empty
                + " empty file(s) in "
                + folder
                + " get no result: Spark's file sources do not read zero-length files"
                + " (conveyor classify answers them EMPTY)");
    assertThat(results).hasSize(files.size());
    Map<String, String> answers = new HashMap<>();
    for (JsonNode r : results) {
      assertThat(answers.put(r.get("source").asText(), answer(r))).as("each image once").isNull();
    }
    Map<String, String> expected = new HashMap<>();
    // the operator's own files, read by key to compare
    try (Pipeline classify =
        Pipelines.open(Pipelines.read(pipeline, "test"), FetchAllow.parse("file:/"))) {
      for (Path f : files) {
        ClassifyResult r =
            classify.classify(List.of(ImageRequest.ofKey(f.toAbsolutePath().toString()))).get(0);
        expected.put(
            f.toAbsolutePath().toString(), answer(Json.read(Json.write(r), JsonNode.class)));
      }
    }
    assertThat(answers).as("the answers conveyor classify gives").isEqualTo(expected);
    assertThat(answers.values()).contains("error CORRUPT", "error UNSUPPORTED_FORMAT");
    assertThat(report.results()).isEqualTo(files.size());
    assertThat(report.errors()).isPositive().isLessThan(files.size());

    // the same folder into Parquet: the result's fields as columns
    settings.put("sink", dir.resolve("parquet").toString());
    settings.put("format", "parquet");
    settings.put("checkpoints", dir.resolve("checkpoints-parquet").toString());
    SparkJob.of(settings).run(spark, new Engine.Listener() {});
    Dataset<Row> table = spark.read().parquet(dir.resolve("parquet").toString());
    assertThat(table.count()).isEqualTo(files.size());
    assertThat(table.filter("status = 'error'").count()).isEqualTo(report.errors());
    assertThat(table.filter("status = 'ok' AND predictions[0].label = 'Bag'").count()).isPositive();

    // the first query again, on its checkpoint: nothing is new to it, and the run says why
    settings.remove("sink");
    settings.remove("format");
    settings.put("checkpoints", dir.resolve("checkpoints").toString());
    List<String> again = new ArrayList<>();
    Engine.Report second =
        SparkJob.of(settings)
            .run(
                spark,
                new Engine.Listener() {
                  @Override
                  public void warning(String line) {
                    again.add(line);
                  }
                });
    assertThat(second.results()).isZero();
    assertThat(again)
        .contains(
            "every file in "
                + folder
                + " was classified by an earlier run that the checkpoint "
                + dir.resolve("checkpoints")
                + " remembers: delete that folder, or give --checkpoints another, to classify them"
                + " again");
  }

  @Test
  void aWatchedFolderAnswersFilesThatArriveLater(@TempDir Path dir) throws Exception {
    Path in = Files.createDirectories(dir.resolve("in"));
    Files.copy(TestImages.folder().resolve("palette-blue.png"), in.resolve("a.png"));
    Files.copy(TestImages.folder().resolve("yellow.bmp"), in.resolve("b.bmp"));
    Map<String, String> settings = new HashMap<>();
    settings.put("source", in.toString());
    settings.put("watch", "true");
    settings.put("trigger-ms", "200");
    settings.put("model", MODEL);
    settings.put("checkpoints", dir.resolve("checkpoints").toString());
    List<String> sources = java.util.Collections.synchronizedList(new ArrayList<>());
    Thread query =
        new Thread(
            () -> {
              try {
                SparkJob.of(settings)
                    .run(
                        spark,
                        new Engine.Listener() {
                          @Override
                          public void result(String json) {
                            sources.add(Json.read(json, JsonNode.class).get("source").asText());
                          }
                        });
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    query.start();
    waitFor(() -> sources.size() == 2, "the first two files answered");
    Files.copy(TestImages.folder().resolve("sky.tif"), in.resolve("c.tif"));
    waitFor(() -> sources.size() == 3, "the file that came later answered");
    spark.streams().active()[0].stop();
    query.join(60_000);
    assertThat(sources.get(2)).endsWith("c.tif");
    assertThat(sources).hasSize(3);
  }

  private static void waitFor(java.util.function.BooleanSupplier done, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (!done.getAsBoolean()) {
      assertThat(System.nanoTime()).as("waiting for " + what).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void kafkaToKafkaOnTheRealBrokerAnswersEveryRequest(@TempDir Path dir) throws Exception {
    try (KafkaServer kafka = KafkaServer.start(dir)) {
      String uri = kafka.uri("topic=spark-in&results=spark-out&partitions=4");
      int n = 60;
      List<ImageRequest> sent = new ArrayList<>();
      List<String> names = List.of("palette-blue.png", "yellow.bmp", "truncated.jpg");
      try (Requests p = Brokers.open(uri).producer()) {
        for (int i = 0; i < n; i++) {
          Path file = TestImages.folder().resolve(names.get(i % names.size()));
          ImageRequest r =
              new ImageRequest(
                  "k-" + i, file.getFileName().toString(), Files.readAllBytes(file), null, null, 0);
          sent.add(r);
          p.send(r, Duration.ofSeconds(10));
        }
        assertThat(p.flush(Duration.ofSeconds(30))).isEmpty();
      }
      Map<String, String> settings = new HashMap<>();
      settings.put("source", uri);
      settings.put("sink", uri);
      settings.put("until-end", "true");
      settings.put("model", MODEL);
      settings.put("batch", "8");
      settings.put("checkpoints", dir.resolve("checkpoints").toString());
      Engine.Report report = SparkJob.of(settings).run(spark, new Engine.Listener() {});

      Map<String, Integer> answered = new HashMap<>();
      try (Results reader = Brokers.open(uri).results()) {
        reader.stored(
            json ->
                answered.merge(
                    Json.read(json, JsonNode.class).get("id").asText(), 1, Integer::sum));
      }
      assertThat(answered.keySet())
          .as("every request answered")
          .containsExactlyInAnyOrderElementsOf(sent.stream().map(ImageRequest::id).toList());
      assertThat(report.results()).isEqualTo(n);
    }
  }

  @Test
  void redisStreamEntriesFromRedisCliAreAnsweredAndARestartedQueryLosesNothing(@TempDir Path dir)
      throws Exception {
    Path data = Files.createDirectories(dir.resolve("redis"));
    try (RedisServer redis = RedisServer.start(data, false)) {
      String uri = redis.uri("mode=stream&images=spark:images&results=spark:results&group=spark");
      int n = 120;
      List<String> names = List.of("palette-blue.png", "yellow.bmp", "truncated.jpg", "sky.tif");
      for (int i = 0; i < n; i++) {
        // the documented wire format, from the command line: XADD … id ID image <bytes>
        Process cli =
            new ProcessBuilder(
                    "redis-cli",
                    "-p",
                    Integer.toString(redis.port()),
                    "-x",
                    "XADD",
                    "spark:images",
                    "*",
                    "id",
                    "x-" + i,
                    "image")
                .redirectInput(TestImages.folder().resolve(names.get(i % names.size())).toFile())
                .redirectErrorStream(true)
                .start();
        assertThat(cli.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(cli.exitValue()).isZero();
      }
      Process bad =
          new ProcessBuilder(
                  "redis-cli",
                  "-p",
                  Integer.toString(redis.port()),
                  "XADD",
                  "spark:images",
                  "*",
                  "id",
                  "x-bad",
                  "picture",
                  "nothing")
              .start();
      assertThat(bad.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

      try (TestRedisClient r = new TestRedisClient(redis.uri(""))) {
        Map<String, String> settings = redisQuery(uri, dir);
        settings.put("batch", "8");
        settings.put("max-per-batch", "16");

        // the first run is stopped once its first micro-batch is stored
        Thread first =
            new Thread(
                () -> {
                  try {
                    SparkJob.of(settings).run(spark, new Engine.Listener() {});
                  } catch (Exception e) {
                    throw new IllegalStateException(e);
                  }
                });
        first.start();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (r.xlen("spark:results") < 16) {
          assertThat(System.nanoTime()).as("a first batch stored").isLessThan(deadline);
          Thread.sleep(5);
        }
        spark.streams().active()[0].stop();
        first.join(60_000);
        long inFlight = r.pendingCount("spark:images", "spark");
        long stored = r.xlen("spark:results");
        System.out.printf(
            "Spark Redis query: stopped with %d of %d results stored, %d entries pending%n",
            stored, n + 1, inFlight);
        assertThat(inFlight).as("work in flight at the stop").isPositive();
        assertThat(stored).as("work left to do").isLessThan(n + 1);

        // the second run: from the checkpoint, until the group has nothing more
        settings.put("until-end", "true");
        Engine.Report again = SparkJob.of(settings).run(spark, new Engine.Listener() {});
        assertThat(r.pendingCount("spark:images", "spark")).as("all acknowledged").isZero();
        for (int i = 0; i < n; i++) {
          assertThat(r.get("conveyor:result:x-" + i)).as("answered: x-" + i).isNotNull();
        }
        assertThat(r.get("conveyor:result:x-bad"))
            .as(
                "%s",
                r.xrange("spark:results").stream()
                    .map(m -> m.fields().get("result"))
                    .filter(j -> !j.contains("\"ok\":true"))
                    .toList())
            .contains("BAD_REQUEST");
        System.out.printf(
            "Spark Redis query: %d results after the restart, %d stored in all (%d duplicates)%n",
            again.results(), r.xlen("spark:results"), r.xlen("spark:results") - (n + 1));
      }
    }
  }

  /** A query from a Redis stream back to it, checkpointed under {@code dir}. */
  private static Map<String, String> redisQuery(String uri, Path dir) {
    Map<String, String> settings = new HashMap<>();
    settings.put("source", uri);
    settings.put("sink", uri);
    settings.put("model", MODEL);
    settings.put("checkpoints", dir.resolve("checkpoints").toString());
    return settings;
  }

  @Test
  void aLoneRedisEntryIsAnsweredWithinSecondsAndAQueryStoppedMidBatchLeavesNothingPending(
      @TempDir Path dir) throws Exception {
    Path data = Files.createDirectories(dir.resolve("redis"));
    try (RedisServer redis = RedisServer.start(data, false)) {
      String uri = redis.uri("mode=stream&images=lone:images&results=lone:results&group=spark");
      try (TestRedisClient r = new TestRedisClient(redis.uri(""))) {
        Map<String, String> settings = redisQuery(uri, dir);
        java.util.concurrent.CompletableFuture<Engine.Report> done =
            new java.util.concurrent.CompletableFuture<>();
        // results of the micro-batches that have ended (their progress is reported)
        java.util.concurrent.atomic.AtomicLong finished =
            new java.util.concurrent.atomic.AtomicLong();
        Thread query =
            new Thread(
                () -> {
                  try {
                    done.complete(
                        SparkJob.of(settings)
                            .run(
                                spark,
                                new Engine.Listener() {
                                  @Override
                                  public void progress(long results, long errors) {
                                    finished.set(results);
                                  }
                                }));
                  } catch (Throwable e) {
                    done.completeExceptionally(e);
                  }
                });
        query.start();
        byte[] image = Files.readAllBytes(TestImages.folder().resolve("palette-blue.png"));
        List<Long> millis = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
          String id = "lone-" + i;
          long t = System.nanoTime();
          try (dev.conveyor.core.transport.Requests p =
              dev.conveyor.core.transport.Brokers.open(uri).producer()) {
            p.send(
                new dev.conveyor.core.ImageRequest(id, id, image, null, null, 0),
                java.time.Duration.ofSeconds(10));
            assertThat(p.flush(java.time.Duration.ofSeconds(10))).isEmpty();
          }
          waitFor(() -> r.exists("conveyor:result:" + id), "the result of " + id);
          if (i > 0) {
            // the first also waited for the query to start
            millis.add((System.nanoTime() - t) / 1_000_000);
          }
        }
        System.out.printf("Spark Redis query: lone entries answered after %s ms%n", millis);
        assertThat(millis).as("a micro-batch per entry, no waiting").allMatch(ms -> ms < 2000);
        // a burst, and the stop right behind it: the batch in flight ends before the query stops
        try (dev.conveyor.core.transport.Requests p =
            dev.conveyor.core.transport.Brokers.open(uri).producer()) {
          for (int i = 0; i < 6; i++) {
            p.send(
                new dev.conveyor.core.ImageRequest("burst-" + i, "b", image, null, null, 0),
                java.time.Duration.ofSeconds(10));
          }
          assertThat(p.flush(java.time.Duration.ofSeconds(10))).isEmpty();
        }
        waitFor(() -> entriesRead(r, "lone:images") > 4, "the burst read for a batch");
        query.interrupt();
        query.join(60_000);
        assertThat(done).as("stopped by the interrupt").isCompletedExceptionally();
        long read = entriesRead(r, "lone:images");
        System.out.printf(
            "Spark Redis query: stopped with %d of 10 entries read, %d results%n",
            read, r.xlen("lone:results"));
        assertThat(r.pendingCount("lone:images", "spark"))
            .as("nothing pending: the batch in flight ended, the last acknowledged")
            .isZero();
        assertThat(r.xlen("lone:results")).as("every entry read answered").isEqualTo(read);
        assertThat(read).as("the burst begun").isGreaterThan(4);
      }
    }
  }

  /** Entries of the stream the group {@code spark} has read. */
  private static long entriesRead(TestRedisClient r, String s) {
    Object read = r.group(s, "spark").get("entries-read");
    return read instanceof Long n ? n : 0;
  }

  /** Entries read and not acknowledged; none while the query has not made its group yet. */
  private static long pending(TestRedisClient r) {
    return r.groups("spark:images").contains("spark") ? r.pendingCount("spark:images", "spark") : 0;
  }

  private static String answer(JsonNode r) {
    if (r.get("status").asText().equals("ok")) {
      JsonNode top = r.at("/predictions/0");
      return "ok %s %.4f".formatted(top.get("label").asText(), top.get("score").asDouble());
    }
    return "error " + r.at("/error/code").asText();
  }
}
