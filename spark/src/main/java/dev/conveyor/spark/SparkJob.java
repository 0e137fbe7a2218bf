package dev.conveyor.spark;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.ResultBuffer;
import dev.conveyor.kafka.KafkaAddress;
import dev.conveyor.kafka.Records;
import dev.conveyor.kafka.RequestFormat;
import dev.conveyor.kafka.Topics;
import dev.conveyor.redis.RedisAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.ForeachPartitionFunction;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamReader;
import org.apache.spark.sql.streaming.DataStreamWriter;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryListener;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * The one assembly of Conveyor's Spark query, whether {@code spark-submit} runs it ({@link
 * ClassifyQuery}) or {@code conveyor spark} does on {@code local[*]} ({@link SparkEngine}): a
 * source read as a stream, each partition of each micro-batch classified in the executors, and a
 * sink, with a checkpoint location always. Every setting is read and checked here, on the driver,
 * before the query starts.
 */
public final class SparkJob {
  /** The query's settings: its own, then the pipeline's. */
  public static final SettingGroup[] SETTINGS = {
    JobSettings.SPARK,
    PipelineSettings.MODEL_SETTINGS,
    PipelineSettings.FETCH_SETTINGS,
    PipelineSettings.BATCH_SETTINGS
  };

  static final String STDOUT = "-";
  private static final StructType TO_KAFKA =
      new StructType()
          .add("topic", DataTypes.StringType)
          .add("key", DataTypes.StringType)
          .add("value", DataTypes.StringType);

  /** A result's fields as Parquet columns: the JSON every path writes, as a table. */
  static final String RESULT_COLUMNS =
      "id STRING, source STRING, status STRING, model STRING,"
          + " predictions ARRAY<STRUCT<index: INT, label: STRING, score: DOUBLE>>,"
          + " error STRUCT<code: STRING, message: STRING>, host STRING, latency_ms DOUBLE";

  /** The columns of Spark's {@code binaryFile} source. */
  private static final StructType BINARY_FILE =
      new StructType()
          .add("path", DataTypes.StringType)
          .add("modificationTime", DataTypes.TimestampType)
          .add("length", DataTypes.LongType)
          .add("content", DataTypes.BinaryType);

  /** The longest a stop waits for the micro-batch in flight to end. */
  private static final long FINISH_SECONDS = 20;

  private static final String LISTING_THRESHOLD =
      "spark.sql.sources.parallelPartitionDiscovery.threshold";

  private final Settings settings;
  private final String source;
  private final String sink;
  private final Map<String, String> pipeline;

  private SparkJob(Settings settings) {
    this.settings = settings;
    this.source = settings.get(JobSettings.SOURCE);
    if (source == null) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "give --source: a folder, kafka://host:port?topic=… or redis://host:port?mode=stream");
    }
    this.sink = settings.get(JobSettings.SINK);
    checkSource();
    checkSink();
    Map<String, String> p = new LinkedHashMap<>(settings.given());
    JobSettings.SPARK.settings().forEach(s -> p.remove(s.name()));
    this.pipeline = p;
    dev.conveyor.assembly.Pipelines.read(pipeline, "query");
  }

  /**
   * Reads the query's settings by name, as arguments or options give them.
   *
   * @throws ConveyorException {@code INVALID_SETTING} naming a wrong setting
   */
  public static SparkJob of(Map<String, String> given) {
    return new SparkJob(Settings.read(given, "query", SETTINGS));
  }

  public String name() {
    return "conveyor: classify " + source;
  }

  /**
   * Task slots of {@code conveyor spark}'s {@code local[N]}; 0 for {@code local[*]}. On a cluster
   * the executors' cores decide.
   */
  public int parallelism() {
    return settings.get(JobSettings.PARALLELISM);
  }

  /** Where the query keeps its checkpoint: the setting, or a folder named after source and sink. */
  public String checkpoints() {
    String dir = settings.get(JobSettings.CHECKPOINTS);
    if (dir != null) {
      return dir;
    }
    return Path.of(".conveyor", "spark-checkpoints", digest(source + " -> " + sink))
        .toAbsolutePath()
        .toString();
  }

  private static String digest(String s) {
    try {
      byte[] d =
          java.security.MessageDigest.getInstance("SHA-256")
              .digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private boolean folderSource() {
    return !isUri(source) || source.startsWith("file://");
  }

  private void checkSource() {
    if (KafkaAddress.handles(source)) {
      KafkaAddress.parse(source);
    } else if (RedisAddress.handles(source)) {
      RedisAddress a = RedisAddress.parse(source);
      if (a.mode() != RedisAddress.Mode.STREAM) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "the Spark query reads a Redis stream through a consumer group: add mode=stream to "
                + a.describe());
      }
    } else if (isUri(source) && !source.startsWith("file://")) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "no Spark source for '"
              + source
              + "'; use a folder, kafka://host:port?topic=… or redis://host:port?mode=stream");
    } else if (!Files.isDirectory(folder(source))) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "no folder at " + folder(source));
    }
  }

  private void checkSink() {
    if (sink.equals(STDOUT)) {
      return;
    }
    if (KafkaAddress.handles(sink)) {
      KafkaAddress.parse(sink);
    } else if (isUri(sink) && !sink.startsWith("file://")) {
      Brokers.open(sink).describe();
    }
  }

  private static boolean isUri(String s) {
    return s.matches("[a-zA-Z][a-zA-Z0-9+.-]*://.*");
  }

  private static Path folder(String s) {
    return Path.of(s.startsWith("file://") ? s.substring(7) : s);
  }

  /** The source's requests, shaped as {@link ClassifyPartition#REQUESTS}. */
  Dataset<Row> requests(SparkSession spark) {
    if (folderSource()) {
      String dir = folder(source).toAbsolutePath().toString();
      // each micro-batch looks up its files again; past 32 paths Spark does that with a job of its
      // own, which costs more than the lookups for files on a local disk (a quarter of a second on
      // every batch of ResNet-50's bench). A value the user set is kept.
      if (!spark.conf().getAll().contains(LISTING_THRESHOLD)) {
        spark.conf().set(LISTING_THRESHOLD, Integer.MAX_VALUE);
      }
      return spark
          .readStream()
          .format("binaryFile")
          .schema(BINARY_FILE)
          .option("recursiveFileLookup", "true")
          .option("maxFilesPerTrigger", settings.get(JobSettings.MAX_PER_BATCH))
          .load(dir)
          .selectExpr(
              "md5(path) AS id",
              "regexp_replace(path, '^file:', '') AS source",
              "content AS bytes",
              "CAST(NULL AS STRING) AS content_type",
              "CAST(NULL AS STRING) AS reply_to");
    }
    if (RedisAddress.handles(source)) {
      return spark
          .readStream()
          .format(RedisMicroBatchSource.class.getName())
          .option("uri", source)
          .option("max-per-batch", settings.get(JobSettings.MAX_PER_BATCH))
          .load();
    }
    KafkaAddress a = KafkaAddress.parse(source);
    DataStreamReader r =
        spark
            .readStream()
            .format("kafka")
            .option("kafka.bootstrap.servers", a.bootstrap())
            .option("subscribe", a.topic())
            .option("startingOffsets", "earliest")
            .option("includeHeaders", "true")
            .option("failOnDataLoss", "false")
            .option("maxOffsetsPerTrigger", settings.get(JobSettings.MAX_PER_BATCH));
    for (Map.Entry<String, String> e : a.clientProperties().entrySet()) {
      r = r.option("kafka." + e.getKey(), e.getValue());
    }
    // each record decoded as the workers decode it (Records): Conveyor's format, or bare object
    // keys with requests=keys; a record without a key keeps an id of its place, the same on a
    // replay
    RequestFormat format = a.format();
    return r.load()
        .select("key", "value", "topic", "partition", "offset", "headers")
        .map(
            (MapFunction<Row, Row>) row -> kafkaRequest(format, row),
            Encoders.row(ClassifyPartition.REQUESTS));
  }

  /** A Kafka source's row (key, value, topic, partition, offset, headers) as a request's row. */
  private static Row kafkaRequest(RequestFormat format, Row row) {
    RecordHeaders headers = new RecordHeaders();
    List<Row> given = row.isNullAt(5) ? List.of() : row.getList(5);
    for (Row h : given) {
      headers.add(h.getString(0), h.isNullAt(1) ? null : (byte[]) h.get(1));
    }
    String topic = row.getString(2);
    int partition = row.getInt(3);
    long offset = row.getLong(4);
    ImageRequest q =
        Records.read(
            format,
            topic,
            partition,
            offset,
            row.isNullAt(0) ? null : new String((byte[]) row.get(0), StandardCharsets.UTF_8),
            row.isNullAt(1) ? null : (byte[]) row.get(1),
            headers,
            topic + "-" + partition + "-" + offset);
    return RowFactory.create(q.id(), q.source(), q.bytes(), q.contentType(), q.replyTo());
  }

  /**
   * Starts the query on {@code spark}; results come back to {@code listener} when the sink is
   * {@code -}, progress at each micro-batch. Returns once a bounded query ends, or when this thread
   * is interrupted (the query is then stopped).
   */
  public Engine.Report run(SparkSession spark, Engine.Listener listener) throws Exception {
    LongAccumulator results = spark.sparkContext().longAccumulator("conveyor-results");
    LongAccumulator errors = spark.sparkContext().longAccumulator("conveyor-errors");
    Dataset<Row> requests = requests(spark);
    if (parallelism() > 0) {
      // one partition per task slot: each task fills whole batches, with no partial one per file
      // split (no shuffle: the partitions are merged where they are)
      requests = requests.coalesce(parallelism());
    }
    Dataset<Row> classified =
        requests.mapPartitions(
            new ClassifyPartition(pipeline, results, errors),
            Encoders.row(ClassifyPartition.RESULTS));
    StreamingQueryListener progress =
        new StreamingQueryListener() {
          @Override
          public void onQueryStarted(QueryStartedEvent event) {}

          @Override
          public void onQueryProgress(QueryProgressEvent event) {
            listener.progress(results.value(), errors.value());
            listener.status(
                "%.1f rows/s in, %.1f processed, batch %d ms"
                    .formatted(
                        event.progress().inputRowsPerSecond(),
                        event.progress().processedRowsPerSecond(),
                        event.progress().batchDuration()));
          }

          @Override
          public void onQueryTerminated(QueryTerminatedEvent event) {}
        };
    spark.streams().addListener(progress);
    if (folderSource()) {
      long empty = emptyFiles(folder(source));
      if (empty > 0) {
        listener.warning(
            empty
                + " empty file(s) in "
                + source
                + " get no result: Spark's file sources do not read zero-length files"
                + " (conveyor classify answers them EMPTY)");
      }
    }
    long start = System.nanoTime();
    StreamingQuery query = start(sink(classified, listener));
    try {
      while (!query.awaitTermination(1000)) {
        if (Thread.interrupted()) {
          throw new InterruptedException("stopped");
        }
      }
    } catch (InterruptedException e) {
      // awaitTermination throws it too: either way the query stops here, not left running, once
      // the batch in flight has ended
      finishBatch(query);
      query.stop();
      throw e;
    } finally {
      spark.streams().removeListener(progress);
      acknowledgeLastBatch(query);
    }
    listener.progress(results.value(), errors.value());
    return new Engine.Report(results.value(), errors.value(), (System.nanoTime() - start) / 1e9);
  }

  /**
   * Waits, for at most {@value #FINISH_SECONDS} s, until the query runs no batch: stopping it
   * during one would cut the batch short (its results partly stored, its entries pending until a
   * restart runs it again). No batch runs once the query's status has shown no trigger at work, or
   * a trigger with no new data, for longer than one trigger's look for data (the Redis source waits
   * up to 0.1 s for entries).
   */
  private static void finishBatch(StreamingQuery query) {
    long deadline = System.nanoTime() + FINISH_SECONDS * 1_000_000_000L;
    long quietSince = 0;
    while (query.isActive() && System.nanoTime() < deadline) {
      org.apache.spark.sql.streaming.StreamingQueryStatus status = query.status();
      if (status.isTriggerActive() && status.isDataAvailable()) {
        quietSince = 0;
      } else if (quietSince == 0) {
        quietSince = System.nanoTime();
      } else if (System.nanoTime() - quietSince > 250_000_000L) {
        return;
      }
      try {
        Thread.sleep(20);
      } catch (InterruptedException again) {
        // a second interrupt: stop now
        return;
      }
    }
  }

  /**
   * Once the query has stopped: a Redis stream's entries are acknowledged when the next batch is
   * planned, so those of the last batch that ran (its results are in the sink) are acknowledged
   * here, from the query's last progress, and a stopped query leaves nothing pending.
   */
  private void acknowledgeLastBatch(StreamingQuery query) {
    if (!RedisAddress.handles(source) || query.isActive() || query.lastProgress() == null) {
      return;
    }
    try {
      for (org.apache.spark.sql.streaming.SourceProgress p : query.lastProgress().sources()) {
        RedisMicroBatchSource.acknowledge(source, p.endOffset());
      }
    } catch (RuntimeException e) {
      // its entries stay pending, and a restarted query reads them again: a duplicate, no loss
      org.slf4j.LoggerFactory.getLogger(SparkJob.class)
          .warn("could not acknowledge the last batch's entries (they will be read again)", e);
    }
  }

  /** Zero-length files under a folder source, which Spark's scan planning leaves out. */
  private static long emptyFiles(Path dir) throws java.io.IOException {
    try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .filter(f -> !f.getFileName().toString().matches("[._].*"))
          .filter(
              f -> {
                try {
                  return Files.size(f) == 0;
                } catch (java.io.IOException e) {
                  return false;
                }
              })
          .count();
    }
  }

  private StreamingQuery start(DataStreamWriter<?> writer) throws TimeoutException {
    boolean bounded =
        settings.get(JobSettings.UNTIL_END) || (folderSource() && !settings.get(JobSettings.WATCH));
    int ms = settings.get(JobSettings.TRIGGER_MS);
    Trigger trigger = bounded ? Trigger.AvailableNow() : Trigger.ProcessingTime(ms);
    return writer
        .queryName("conveyor")
        .option("checkpointLocation", checkpoints())
        .trigger(trigger)
        .start();
  }

  private DataStreamWriter<?> sink(Dataset<Row> results, Engine.Listener listener) {
    if (sink.equals(STDOUT)) {
      return results
          .writeStream()
          .foreachBatch(
              (VoidFunction2<Dataset<Row>, Long>)
                  (batch, id) -> {
                    for (Row r : batch.collectAsList()) {
                      listener.result(r.getString(3));
                    }
                  });
    }
    if (KafkaAddress.handles(sink)) {
      KafkaAddress a = KafkaAddress.parse(sink);
      Topics.ensure(a);
      String topic = a.results();
      String replyPrefix = a.replyPrefix();
      DataStreamWriter<Row> w =
          results
              .flatMap(
                  (FlatMapFunction<Row, Row>)
                      r -> {
                        List<Row> out = new ArrayList<>(2);
                        out.add(RowFactory.create(topic, r.getString(0), r.getString(3)));
                        String reply = r.getString(1);
                        // only inside the reply namespace: a request names no other topic
                        if (KafkaAddress.inReplyNamespace(replyPrefix, reply)) {
                          out.add(RowFactory.create(reply, r.getString(0), r.getString(3)));
                        }
                        return out.iterator();
                      },
                  Encoders.row(TO_KAFKA))
              .writeStream()
              .format("kafka")
              .option("kafka.bootstrap.servers", a.bootstrap());
      for (Map.Entry<String, String> e : a.clientProperties().entrySet()) {
        w = w.option("kafka." + e.getKey(), e.getValue());
      }
      return w;
    }
    if (isUri(sink) && !sink.startsWith("file://")) {
      String uri = sink;
      long linger = settings.get(JobSettings.SINK_LINGER_MS);
      return results
          .writeStream()
          .foreachBatch(
              (VoidFunction2<Dataset<Row>, Long>)
                  (batch, id) ->
                      batch.foreachPartition(
                          (ForeachPartitionFunction<Row>) rows -> store(uri, linger, rows)));
    }
    String path = folder(sink).toAbsolutePath().toString();
    if (settings.get(JobSettings.FORMAT).equals("parquet")) {
      return results
          .selectExpr("from_json(json, '" + RESULT_COLUMNS + "') AS r")
          .selectExpr("r.*")
          .writeStream()
          .format("parquet")
          .option("path", path);
    }
    return results.selectExpr("json AS value").writeStream().format("text").option("path", path);
  }

  /**
   * Stores a partition's results in a broker's result sink, as {@code worker} does: in groups of up
   * to 256, a group once full or once its first result has waited {@code sink-linger-ms} (the
   * partition's results are classified as they are read here, so a long partition stores as it
   * goes), and the rest at the partition's end.
   */
  private static void store(String uri, long lingerMillis, java.util.Iterator<Row> rows)
      throws Exception {
    try (ResultBuffer buffer =
        new ResultBuffer(
            Brokers.open(uri).sink(), 256, java.time.Duration.ofMillis(lingerMillis))) {
      while (rows.hasNext()) {
        Row r = rows.next();
        buffer.add(r.getString(0), r.getString(1), r.getString(3));
      }
      buffer.flush();
    }
  }
}
