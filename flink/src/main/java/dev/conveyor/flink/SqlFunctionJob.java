package dev.conveyor.flink;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import dev.conveyor.flink.sql.Classify;
import dev.conveyor.flink.sql.ImageFolder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;

/**
 * The job with {@code api=sql}: Conveyor's SQL function {@link Classify} in a query over the folder
 * source's files, as a user's own Flink SQL calls it ({@code SELECT path, classify(content) FROM
 * images}), each row then made the job's result for the same sinks.
 */
final class SqlFunctionJob {
  private SqlFunctionJob() {}

  static DataStream<Classified> results(
      StreamExecutionEnvironment env, String folder, Map<String, String> pipeline) {
    StreamTableEnvironment tables = StreamTableEnvironment.create(env);
    int batch = ServedModels.read(pipeline, "job").get(PipelineSettings.BATCH);
    // calls under way on each task: enough for the function to gather two whole batches
    tables
        .getConfig()
        .set("table.exec.async-scalar.max-concurrent-operations", Integer.toString(2 * batch));
    tables.createTemporarySystemFunction("classify", new Classify(pipeline));
    tables.createTemporaryView("images", ImageFolder.table(tables, env, folder));
    return tables
        .toDataStream(tables.sqlQuery("SELECT path, classify(content) AS c FROM images"))
        .map(new Results())
        .returns(TypeInformation.of(Classified.class))
        .name("results");
  }

  /** A row of path and the function's result as the job's result, counted as the operator does. */
  static final class Results extends RichMapFunction<Row, Classified> {
    private static final long serialVersionUID = 1L;
    private transient LongCounter results;
    private transient LongCounter errors;

    @Override
    public void open(OpenContext context) {
      results = new LongCounter();
      errors = new LongCounter();
      getRuntimeContext().addAccumulator(ClassifyOperator.RESULTS, results);
      getRuntimeContext().addAccumulator(ClassifyOperator.ERRORS, errors);
    }

    @Override
    public Classified map(Row row) {
      String path = (String) row.getField(0);
      // a local file by its path, as the operator's folder source names it
      String source = path.startsWith("file:") ? path.substring("file:".length()) : path;
      ClassifyResult r = result(ImageRequest.newId(), source, (Row) row.getField(1));
      results.add(1);
      if (!r.isOk()) {
        errors.add(1);
      }
      return new Classified(r.id(), null, r.isOk(), Json.write(r), null);
    }
  }

  /** The function's row ({@link Classify#RESULT}) as the result the operator gives. */
  static ClassifyResult result(String id, String source, Row c) {
    Row error = (Row) c.getField(6);
    List<Prediction> top = new ArrayList<>();
    if (error == null) {
      for (Object p : (Object[]) c.getField(3)) {
        Row r = (Row) p;
        top.add(
            new Prediction((Integer) r.getField(0), (String) r.getField(1), (Float) r.getField(2)));
      }
    }
    return ClassifyResult.fromRow(
        id,
        source,
        (String) c.getField(4),
        (Long) c.getField(5),
        top,
        error == null ? null : (String) error.getField(0),
        error == null ? null : (String) error.getField(1));
  }
}
