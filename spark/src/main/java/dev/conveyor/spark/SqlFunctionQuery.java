package dev.conveyor.spark;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import dev.conveyor.spark.sql.ConveyorExtensions;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.util.LongAccumulator;

/**
 * The query with {@code api=sql}: Conveyor's SQL function {@code classify} over the source's
 * requests ({@code SELECT id, source, classify(bytes) …}), as a user's own query calls it, each row
 * then made the query's result ({@link ClassifyPartition#RESULTS}) for the same sinks.
 */
final class SqlFunctionQuery {
  private SqlFunctionQuery() {}

  /** The extension that gives a session {@code classify}, added to those {@code conf} names. */
  static String extensions(String conf) {
    String ours = ConveyorExtensions.class.getName();
    return conf == null || conf.isBlank() ? ours : conf.contains(ours) ? conf : conf + "," + ours;
  }

  /**
   * @param pipeline the pipeline's settings, which become the session's {@code spark.conveyor.*}
   *     options that {@code classify} reads
   */
  static Dataset<Row> results(
      SparkSession spark,
      Dataset<Row> requests,
      java.util.Map<String, String> pipeline,
      LongAccumulator results,
      LongAccumulator errors) {
    if (!spark
        .sessionState()
        .functionRegistry()
        .functionExists(new FunctionIdentifier("classify"))) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "--api sql needs the function classify in the Spark session: start it with --conf"
              + " spark.sql.extensions="
              + ConveyorExtensions.class.getName());
    }
    pipeline.forEach((name, value) -> spark.conf().set("spark.conveyor." + name, value));
    return requests
        .selectExpr("id", "source", "classify(bytes) AS c")
        .mapPartitions(
            (MapPartitionsFunction<Row, Row>)
                rows ->
                    new Iterator<>() {
                      @Override
                      public boolean hasNext() {
                        return rows.hasNext();
                      }

                      @Override
                      public Row next() {
                        Row row = rows.next();
                        ClassifyResult r =
                            result(row.getString(0), row.getString(1), row.getStruct(2));
                        results.add(1);
                        if (!r.isOk()) {
                          errors.add(1);
                        }
                        return RowFactory.create(r.id(), null, r.isOk(), Json.write(r));
                      }
                    },
            Encoders.row(ClassifyPartition.RESULTS));
  }

  /** The function's struct as the result the query's own classification gives. */
  static ClassifyResult result(String id, String source, Row c) {
    Row error = c.getStruct(6);
    List<Prediction> top = new ArrayList<>();
    if (error == null) {
      for (Row p : c.<Row>getList(3)) {
        top.add(new Prediction(p.getInt(0), p.getString(1), p.getFloat(2)));
      }
    }
    return ClassifyResult.fromRow(
        id,
        source,
        c.getString(4),
        c.isNullAt(5) ? null : c.getLong(5),
        top,
        error == null ? null : error.getString(0),
        error == null ? null : error.getString(1));
  }
}
