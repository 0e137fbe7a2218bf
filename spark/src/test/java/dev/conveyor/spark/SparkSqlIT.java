package dev.conveyor.spark;

import static org.apache.spark.sql.functions.call_function;
import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.assembly.Pipelines;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.fetch.FetchAllow;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code classify} in a user's own Spark SQL and DataFrames, on {@code local[2]}: each answer the
 * one {@code conveyor classify} gives for the same file, the model run on batches of rows.
 */
@Timeout(240)
class SparkSqlIT {
  static final String MODEL = SparkJobIT.MODEL;
  static SparkSession spark;

  @BeforeAll
  static void start() {
    spark =
        SparkSession.builder()
            .master("local[2]")
            .appName("conveyor sql test")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "2")
            .config("spark.sql.extensions", "dev.conveyor.spark.sql.ConveyorExtensions")
            .config("spark.conveyor.model", MODEL)
            .config("spark.conveyor.batch", "4")
            .getOrCreate();
  }

  @AfterAll
  static void stop() {
    if (spark != null) {
      spark.stop();
    }
  }

  /** What {@code conveyor classify} answers for each non-empty test image, by its path. */
  private static Map<String, String> expected() throws Exception {
    Map<String, String> expected = new HashMap<>();
    try (Pipeline classify =
        Pipelines.open(
            Pipelines.read(Map.of("model", MODEL), "test"), FetchAllow.parse("file:/"))) {
      for (Path f : ImageFiles.expand(List.of(TestImages.folder()))) {
        if (Files.size(f) > 0) {
          ClassifyResult r =
              classify
                  .classify(List.of(ImageRequest.ofBytes("f", Files.readAllBytes(f), null)))
                  .get(0);
          expected.put(f.getFileName().toString(), answer(r));
        }
      }
    }
    return expected;
  }

  /**
   * A result as {@link #answer(Row)} gives the function's struct: best label, index, top-k size.
   */
  private static String answer(ClassifyResult r) {
    return r.isOk()
        ? r.predictions().get(0).label()
            + " "
            + r.predictions().get(0).index()
            + " "
            + r.predictions().size()
        : "error " + r.error().code();
  }

  private static String answer(Row c) {
    if (!c.isNullAt(c.fieldIndex("error"))) {
      return "error " + c.getStruct(c.fieldIndex("error")).getString(0);
    }
    return c.getString(c.fieldIndex("label"))
        + " "
        + c.getInt(c.fieldIndex("class_index"))
        + " "
        + c.getList(c.fieldIndex("top_k")).size();
  }

  private static String name(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  @Test
  void sqlOverAFolderAnswersEachFileAsClassifyDoesInBatches() throws Exception {
    String folder = TestImages.folder().toAbsolutePath().toString();
    Dataset<Row> q =
        spark.sql(
            "SELECT path, classify(content) AS c, classify(content).label AS label"
                + " FROM binaryFile.`"
                + folder
                + "`");
    assertThat(q.queryExecution().executedPlan().toString())
        .as("run in batches, once for both uses")
        .containsOnlyOnce("BatchClassify");
    Map<String, String> answers = new HashMap<>();
    for (Row r : q.collectAsList()) {
      Row c = r.getStruct(1);
      assertThat(answers.put(name(r.getString(0)), answer(c))).isNull();
      assertThat(r.getString(2)).isEqualTo(c.getString(c.fieldIndex("label")));
      if (c.isNullAt(c.fieldIndex("error"))) {
        assertThat(c.getString(c.fieldIndex("model"))).isEqualTo("fashion-mnist");
        assertThat(c.getFloat(c.fieldIndex("score")))
            .isEqualTo(c.<Row>getList(c.fieldIndex("top_k")).get(0).getFloat(2));
      }
    }
    assertThat(answers).isEqualTo(expected());
    assertThat(answers.values()).contains("error CORRUPT", "error UNSUPPORTED_FORMAT");
    assertThat(answers.values()).anyMatch(a -> !a.startsWith("error"));
  }

  @Test
  void theDataFrameApiFiltersAndGroupsOnTheResult() throws Exception {
    Dataset<Row> images = spark.read().format("binaryFile").load(TestImages.folder().toString());
    Dataset<Row> labelled =
        images.select(col("path"), call_function("classify", col("content")).as("c"));
    Map<String, String> expected = expected();
    long bags = expected.values().stream().filter(a -> a.startsWith("Bag ")).count();
    assertThat(bags).isPositive();
    assertThat(labelled.where(col("c.label").equalTo("Bag")).count()).isEqualTo(bags);

    List<Row> byCode =
        images
            .selectExpr("classify(content).error.code AS code")
            .where("code IS NOT NULL")
            .groupBy("code")
            .count()
            .collectAsList();
    long errors = expected.values().stream().filter(a -> a.startsWith("error")).count();
    assertThat(byCode.stream().mapToLong(r -> r.getLong(1)).sum()).isEqualTo(errors);
  }

  @Test
  void aBinaryColumnOfBadRowsGivesErrorStructsAndNullGivesNull() throws Exception {
    List<Row> rows = new ArrayList<>();
    rows.add(
        RowFactory.create(1, Files.readAllBytes(TestImages.folder().resolve("palette-blue.png"))));
    rows.add(RowFactory.create(2, "not an image".getBytes()));
    rows.add(RowFactory.create(3, (Object) null));
    rows.add(RowFactory.create(4, new byte[0]));
    StructType schema =
        new StructType().add("id", DataTypes.IntegerType).add("image", DataTypes.BinaryType);
    spark.createDataFrame(rows, schema).createOrReplaceTempView("uploads");
    List<Row> out =
        spark.sql("SELECT id, classify(image) AS c FROM uploads ORDER BY id").collectAsList();
    assertThat(out).hasSize(4);
    assertThat(out.get(0).getStruct(1).isNullAt(6)).as("palette-blue.png has a label").isTrue();
    assertThat(answer(out.get(1).getStruct(1))).isEqualTo("error UNSUPPORTED_FORMAT");
    assertThat(out.get(2).isNullAt(1)).as("NULL in, NULL out").isTrue();
    assertThat(answer(out.get(3).getStruct(1))).isEqualTo("error EMPTY");
  }

  @Test
  void wrongUsesAreRefusedWhenTheQueryIsPlannedWithTheFix() {
    spark
        .createDataFrame(
            List.of(RowFactory.create(1)), new StructType().add("id", DataTypes.IntegerType))
        .createOrReplaceTempView("numbers");
    assertThatThrownBy(() -> spark.sql("SELECT classify(id) FROM numbers").collect())
        .hasMessageContaining("classify takes the image's bytes, a BINARY column");
    assertThatThrownBy(() -> spark.sql("SELECT classify() FROM numbers").collect())
        .hasMessageContaining("classify takes one argument");
    spark
        .createDataFrame(
            List.of(RowFactory.create(1, new byte[] {1})),
            new StructType().add("id", DataTypes.IntegerType).add("image", DataTypes.BinaryType))
        .createOrReplaceTempView("pictures");
    assertThatThrownBy(
            () ->
                spark
                    .sql(
                        "SELECT a.id FROM pictures a JOIN pictures b"
                            + " ON classify(a.image).label = classify(b.image).label")
                    .collect())
        .hasMessageContaining("classify in a subquery first");
  }

  @Test
  void theQueryWithApiSqlRunsTheFunctionAndAnswersAsClassifyDoes(@TempDir Path dir)
      throws Exception {
    Map<String, String> settings = new HashMap<>();
    settings.put("model", MODEL);
    settings.put("batch", "4");
    settings.put("source", TestImages.folder().toString());
    settings.put("checkpoints", dir.toString());
    settings.put("api", "sql");
    Map<String, String> answers = new HashMap<>();
    Engine.Report report =
        SparkJob.of(settings)
            .run(
                spark,
                new Engine.Listener() {
                  @Override
                  public void result(String json) {
                    ClassifyResult r = Json.read(json, ClassifyResult.class);
                    assertThat(answers.put(name(r.source()), answer(r))).isNull();
                  }
                });
    assertThat(answers).isEqualTo(expected());
    assertThat(report.results()).isEqualTo(answers.size());
    settings.put("source", "kafka://127.0.0.1:9/?topic=images");
    assertThatThrownBy(() -> SparkJob.of(settings))
        .hasMessageContaining("--api sql runs the SQL function classify over a folder");
  }
}
