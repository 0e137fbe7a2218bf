package dev.conveyor.spark;

import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.JobPlan;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.ResultBuffer;
import dev.conveyor.kafka.KafkaBatches;
import dev.conveyor.kafka.KafkaConfig;
import dev.conveyor.kafka.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.ForeachPartitionFunction;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.streaming.DataStreamWriter;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Where the query's results go, from the {@code sink} setting:
 *
 * <ul>
 *   <li>{@code -}: each micro-batch's results collected to the driver and handed to the listener;
 *   <li>{@code kafka://…}: Spark's Kafka sink to the results topic, keyed by request id, and to a
 *       request's {@code reply-to} topic when it lies in the reply namespace; with {@code
 *       delivery=exactly-once}, each micro-batch in one transaction from the driver, once per
 *       micro-batch number ({@link KafkaBatches});
 *   <li>any other broker URI ({@code redis://…}): that broker's result sink, as {@code worker}
 *       writes it, from each partition; idempotent by request id with {@code delivery=exactly-once}
 *       (PostgreSQL's always), so a micro-batch or task run again stores nothing twice;
 *   <li>a folder: Spark's file sink, JSON lines or Parquet.
 * </ul>
 */
final class QuerySinks {
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

  private QuerySinks() {}

  /**
   * The results' writer to the sink; {@code -} hands each micro-batch's results to {@code
   * listener}.
   *
   * @param lingerMillis the longest a result waits in a broker's sink before it is stored
   * @param format what a folder sink writes: {@code json} or {@code parquet}
   */
  static DataStreamWriter<?> writer(
      Dataset<Row> results,
      String sink,
      long lingerMillis,
      String format,
      Engine.Listener listener) {
    if (sink.equals(JobPlan.STDOUT)) {
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
    if (KafkaConfig.handles(sink)) {
      KafkaConfig a = KafkaConfig.parse(sink);
      Topics.ensure(a);
      if (a.exactlyOnce()) {
        return results
            .writeStream()
            .foreachBatch(
                (VoidFunction2<Dataset<Row>, Long>) (batch, id) -> writeOnce(sink, batch, id));
      }
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
                        if (KafkaConfig.inReplyNamespace(replyPrefix, reply)) {
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
    if (!JobPlan.isFolder(sink)) {
      return results
          .writeStream()
          .foreachBatch(
              (VoidFunction2<Dataset<Row>, Long>)
                  (batch, id) ->
                      batch.foreachPartition(
                          (ForeachPartitionFunction<Row>) rows -> store(sink, lingerMillis, rows)));
    }
    String path = JobPlan.folder(sink).toAbsolutePath().toString();
    if (format.equals("parquet")) {
      return results
          .selectExpr("from_json(json, '" + RESULT_COLUMNS + "') AS r")
          .selectExpr("r.*")
          .writeStream()
          .format("parquet")
          .option("path", path);
    }
    return results.selectExpr("json AS value").writeStream().format("text").option("path", path);
  }

  /** Each query's writer of Kafka results exactly once, by its id. */
  private static final Map<String, KafkaBatches> ONCE = new ConcurrentHashMap<>();

  /**
   * A micro-batch's results to Kafka exactly once ({@code delivery=exactly-once}): collected to the
   * driver and written in one transaction with the micro-batch's number ({@link KafkaBatches}), so
   * a micro-batch run again (after a failure, the query started again from its checkpoint) writes
   * nothing twice. Readers of the results read committed records.
   */
  private static void writeOnce(String sink, Dataset<Row> batch, long id) throws Exception {
    String query = batch.sparkSession().sparkContext().getLocalProperty("sql.streaming.queryId");
    if (query == null) {
      throw new IllegalStateException("a micro-batch outside a streaming query");
    }
    KafkaConfig a = KafkaConfig.parse(sink);
    KafkaBatches writer =
        ONCE.computeIfAbsent("conveyor-spark-" + query, name -> new KafkaBatches(a, name));
    List<KafkaBatches.Out> out = new ArrayList<>();
    for (Row r : batch.collectAsList()) {
      out.add(new KafkaBatches.Out(a.results(), r.getString(0), r.getString(3)));
      if (KafkaConfig.inReplyNamespace(a.replyPrefix(), r.getString(1))) {
        out.add(new KafkaBatches.Out(r.getString(1), r.getString(0), r.getString(3)));
      }
    }
    writer.write(id, out);
  }

  /**
   * Stores a partition's results in a broker's result sink, as {@code worker} does: in groups of up
   * to 256, a group once full or once its first result has waited {@code sink-linger-ms} (the
   * partition's results are classified as they are read here, so a long partition stores as it
   * goes), and the rest at the partition's end.
   */
  private static void store(String uri, long lingerMillis, Iterator<Row> rows) throws Exception {
    try (ResultBuffer buffer =
        new ResultBuffer(Brokers.open(uri).sink(), 256, Duration.ofMillis(lingerMillis))) {
      while (rows.hasNext()) {
        Row r = rows.next();
        buffer.add(r.getString(0), r.getString(1), r.getString(3));
      }
      buffer.flush();
    }
  }
}
