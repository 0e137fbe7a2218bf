package dev.conveyor.flink.sql;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Prediction;
import dev.conveyor.core.settings.SettingGroup;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.flink.table.api.DataTypes;
import org.apache.flink.table.catalog.DataTypeFactory;
import org.apache.flink.table.functions.AsyncScalarFunction;
import org.apache.flink.table.functions.FunctionContext;
import org.apache.flink.table.types.DataType;
import org.apache.flink.table.types.inference.StaticArgument;
import org.apache.flink.table.types.inference.TypeInference;
import org.apache.flink.table.types.inference.TypeStrategies;
import org.apache.flink.types.Row;

/**
 * {@code classify(content)} in Flink SQL and the Table API: an image's bytes in, a row of {@code
 * label}, {@code score}, {@code class_index}, {@code top_k}, {@code model}, {@code version} and
 * {@code error} out. Calls are asynchronous and gathered into batches underneath, shared by the
 * tasks of a TaskManager ({@link SharedBatches}), so give {@code
 * table.exec.async-scalar.max-concurrent-operations} at least the batch size. An image that cannot
 * be classified gives a row whose {@code error} holds its code and message; NULL gives NULL.
 *
 * <p>Created by name ({@code CREATE FUNCTION classify AS 'dev.conveyor.flink.sql.Classify'}), it
 * reads the pipeline's settings from the job's parameters named {@code conveyor.} and the setting
 * ({@code conveyor.model}, {@code conveyor.batch}, …: {@code pipeline.global-job-parameters}, or
 * {@code TableConfig#addJobParameter}); created with {@link #Classify(Map)}, from the map.
 */
public class Classify extends AsyncScalarFunction {
  private static final long serialVersionUID = 1L;

  /** The prefix of the job parameters this function reads its settings from. */
  public static final String PREFIX = "conveyor.";

  private static final AtomicLong IDS = new AtomicLong();

  private final Map<String, String> given;
  private transient SharedBatches batches;

  /** Settings from the job's parameters {@code conveyor.*}, read when the function opens. */
  public Classify() {
    this.given = null;
  }

  /**
   * Settings from {@code settings}, by name, checked here.
   *
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} naming a wrong setting
   */
  public Classify(Map<String, String> settings) {
    ServedModels.read(settings, "classify");
    this.given = Map.copyOf(settings);
  }

  @Override
  public void open(FunctionContext context) throws Exception {
    Map<String, String> settings = given;
    if (settings == null) {
      settings = new HashMap<>();
      for (SettingGroup group : GROUPS) {
        for (var setting : group.settings()) {
          String value = context.getJobParameter(PREFIX + setting.name(), null);
          if (value != null) {
            settings.put(setting.name(), value);
          }
        }
      }
    }
    batches = SharedBatches.acquire(settings);
  }

  private static final List<SettingGroup> GROUPS =
      List.of(
          PipelineSettings.MODEL_SETTINGS,
          PipelineSettings.FETCH_SETTINGS,
          PipelineSettings.BATCH_SETTINGS,
          PipelineSettings.REPOSITORY_SETTINGS);

  /** Classifies {@code content}, completing {@code result} once its batch has run. */
  public void eval(CompletableFuture<Row> result, byte[] content) {
    if (content == null) {
      result.complete(null);
      return;
    }
    String id = "sql-" + IDS.incrementAndGet();
    ImageRequest request = new ImageRequest(id, id, content, null, null, System.nanoTime());
    batches
        .submit(request)
        .whenComplete(
            (r, failed) -> {
              if (failed != null) {
                result.completeExceptionally(failed);
              } else {
                result.complete(row(r));
              }
            });
  }

  @Override
  public void close() throws Exception {
    if (batches != null) {
      batches.release();
      batches = null;
    }
  }

  static final DataType PREDICTION =
      DataTypes.ROW(
          DataTypes.FIELD("class_index", DataTypes.INT()),
          DataTypes.FIELD("label", DataTypes.STRING()),
          DataTypes.FIELD("score", DataTypes.FLOAT()));

  /** What the function gives. */
  public static final DataType RESULT =
      DataTypes.ROW(
          DataTypes.FIELD("label", DataTypes.STRING()),
          DataTypes.FIELD("score", DataTypes.FLOAT()),
          DataTypes.FIELD("class_index", DataTypes.INT()),
          DataTypes.FIELD("top_k", DataTypes.ARRAY(PREDICTION)),
          DataTypes.FIELD("model", DataTypes.STRING()),
          DataTypes.FIELD("version", DataTypes.BIGINT()),
          DataTypes.FIELD(
              "error",
              DataTypes.ROW(
                  DataTypes.FIELD("code", DataTypes.STRING()),
                  DataTypes.FIELD("message", DataTypes.STRING()))));

  @Override
  public TypeInference getTypeInference(DataTypeFactory types) {
    return TypeInference.newBuilder()
        .staticArguments(StaticArgument.scalar("content", DataTypes.BYTES(), false))
        .outputTypeStrategy(TypeStrategies.explicit(RESULT))
        .build();
  }

  static Row row(ClassifyResult r) {
    if (!r.isOk()) {
      return Row.of(
          null, null, null, null, null, null, Row.of(r.error().code().name(), r.error().message()));
    }
    List<Prediction> top = r.predictions();
    Row[] topK = new Row[top.size()];
    for (int i = 0; i < topK.length; i++) {
      topK[i] = Row.of(top.get(i).index(), top.get(i).label(), top.get(i).score());
    }
    Prediction best = top.get(0);
    return Row.of(best.label(), best.score(), best.index(), topK, r.model(), r.version(), null);
  }
}
