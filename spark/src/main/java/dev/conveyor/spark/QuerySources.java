package dev.conveyor.spark;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.engine.JobPlan;
import dev.conveyor.kafka.KafkaConfig;
import dev.conveyor.kafka.Records;
import dev.conveyor.kafka.RequestFormat;
import dev.conveyor.redis.RedisConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Where the query's requests come from, from the {@code source} setting, each read as a stream of
 * rows shaped as {@link ClassifyPartition#REQUESTS}:
 *
 * <ul>
 *   <li>a folder: Spark's {@code binaryFile} source, read once or watched;
 *   <li>{@code kafka://…}: Spark's Kafka source, each record decoded as the workers decode it;
 *   <li>{@code redis://…?mode=stream}: the stream through its consumer group ({@link
 *       RedisMicroBatchSource}).
 * </ul>
 */
final class QuerySources {
  /** The columns of Spark's {@code binaryFile} source. */
  private static final StructType BINARY_FILE =
      new StructType()
          .add("path", DataTypes.StringType)
          .add("modificationTime", DataTypes.TimestampType)
          .add("length", DataTypes.LongType)
          .add("content", DataTypes.BinaryType);

  private static final String LISTING_THRESHOLD =
      "spark.sql.sources.parallelPartitionDiscovery.threshold";

  private QuerySources() {}

  /**
   * Checks the source on the driver, before the query starts.
   *
   * @throws ConveyorException {@code INVALID_SETTING} naming what is wrong
   */
  static void check(String source) {
    if (KafkaConfig.handles(source)) {
      KafkaConfig.parse(source);
    } else if (RedisConfig.handles(source)) {
      RedisConfig a = RedisConfig.parse(source);
      if (a.mode() != RedisConfig.Mode.STREAM) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "the Spark query reads a Redis stream through a consumer group: add mode=stream to "
                + a.describe());
      }
    } else if (!JobPlan.isFolder(source)) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "no Spark source for '"
              + source
              + "'; use a folder, kafka://host:port?topic=… or redis://host:port?mode=stream");
    } else if (!Files.isDirectory(JobPlan.folder(source))) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "no folder at " + JobPlan.folder(source));
    }
  }

  /** The source's requests, shaped as {@link ClassifyPartition#REQUESTS}. */
  static Dataset<Row> requests(SparkSession spark, String source, int maxPerBatch) {
    if (JobPlan.isFolder(source)) {
      String dir = JobPlan.folder(source).toAbsolutePath().toString();
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
          .option("maxFilesPerTrigger", maxPerBatch)
          .load(dir)
          .selectExpr(
              "md5(path) AS id",
              "regexp_replace(path, '^file:', '') AS source",
              "content AS bytes",
              "CAST(NULL AS STRING) AS content_type",
              "CAST(NULL AS STRING) AS reply_to",
              "CAST(NULL AS STRING) AS model");
    }
    if (RedisConfig.handles(source)) {
      return spark
          .readStream()
          .format(RedisMicroBatchSource.class.getName())
          .option("uri", source)
          .option("max-per-batch", maxPerBatch)
          .load();
    }
    KafkaConfig a = KafkaConfig.parse(source);
    DataStreamReader r =
        spark
            .readStream()
            .format("kafka")
            .option("kafka.bootstrap.servers", a.bootstrap())
            .option("subscribe", a.topic())
            .option("startingOffsets", "earliest")
            .option("includeHeaders", "true")
            .option("failOnDataLoss", "false")
            .option("maxOffsetsPerTrigger", maxPerBatch);
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
    return RowFactory.create(
        q.id(), q.source(), q.bytes(), q.contentType(), q.replyTo(), q.model());
  }

  /** Zero-length files under a folder source, which Spark's scan planning leaves out. */
  static long emptyFiles(Path dir) throws IOException {
    try (Stream<Path> files = Files.walk(dir)) {
      return files
          .filter(Files::isRegularFile)
          .filter(f -> !f.getFileName().toString().matches("[._].*"))
          .filter(
              f -> {
                try {
                  return Files.size(f) == 0;
                } catch (IOException e) {
                  return false;
                }
              })
          .count();
    }
  }
}
