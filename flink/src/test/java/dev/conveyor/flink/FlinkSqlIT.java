package dev.conveyor.flink;

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
import dev.conveyor.flink.sql.ImageFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.runtime.testutils.MiniClusterResourceConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.test.junit5.MiniClusterExtension;
import org.apache.flink.types.Row;
import org.apache.flink.util.CloseableIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Conveyor inside a user's own Flink job, on the MiniCluster: {@code classify} in Flink SQL over a
 * table of images, and {@link ConveyorStreams} in a DataStream job; each answer the one {@code
 * conveyor classify} gives for the same file.
 */
@Timeout(180)
class FlinkSqlIT {
  @RegisterExtension
  static final MiniClusterExtension FLINK =
      new MiniClusterExtension(
          new MiniClusterResourceConfiguration.Builder()
              .setNumberTaskManagers(1)
              .setNumberSlotsPerTaskManager(2)
              .build());

  /** What {@code conveyor classify} answers for each non-empty test image, by file name. */
  static Map<String, String> expected() throws Exception {
    Map<String, String> expected = new HashMap<>();
    try (Pipeline classify =
        Pipelines.open(
            Pipelines.read(Map.of("model", ClassifyOperatorTest.MODEL), "test"),
            FetchAllow.parse("file:/"))) {
      for (Path f : ImageFiles.expand(List.of(TestImages.folder()))) {
        ClassifyResult r =
            classify
                .classify(List.of(ImageRequest.ofBytes("f", Files.readAllBytes(f), null)))
                .get(0);
        expected.put(f.getFileName().toString(), answer(r));
      }
    }
    return expected;
  }

  static String answer(ClassifyResult r) {
    return r.isOk()
        ? r.predictions().get(0).label()
            + " "
            + r.predictions().get(0).index()
            + " "
            + r.predictions().size()
        : "error " + r.error().code();
  }

  private static String name(String path) {
    return path.substring(path.lastIndexOf('/') + 1);
  }

  @Test
  void flinkSqlClassifiesATableOfImages() throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    StreamTableEnvironment tables = StreamTableEnvironment.create(env);
    tables.getConfig().addJobParameter("conveyor.model", ClassifyOperatorTest.MODEL);
    tables.getConfig().addJobParameter("conveyor.batch", "4");
    tables.getConfig().set("table.exec.async-scalar.max-concurrent-operations", "8");
    tables.createTemporaryView(
        "images", ImageFolder.table(tables, env, TestImages.folder().toString()));
    tables.executeSql("CREATE TEMPORARY FUNCTION classify AS 'dev.conveyor.flink.sql.Classify'");

    Map<String, String> answers = new HashMap<>();
    try (CloseableIterator<Row> rows =
        tables.executeSql("SELECT path, classify(content) AS c FROM images").collect()) {
      rows.forEachRemaining(
          r -> {
            Row c = (Row) r.getField(1);
            String answer;
            if (c.getField("error") != null) {
              answer = "error " + ((Row) c.getField("error")).getField("code");
            } else {
              Row[] top = (Row[]) c.getField("top_k");
              answer = c.getField("label") + " " + c.getField("class_index") + " " + top.length;
              assertThat(c.getField("model")).isEqualTo("fashion-mnist");
              assertThat(c.getField("score")).isEqualTo(top[0].getField("score"));
            }
            assertThat(answers.put(name((String) r.getField(0)), answer)).isNull();
          });
    }
    // a field of the result, as the docs' example reads it
    List<String> labels = new ArrayList<>();
    try (CloseableIterator<Row> rows =
        tables.executeSql("SELECT classify(content).label FROM images").collect()) {
      rows.forEachRemaining(r -> labels.add((String) r.getField(0)));
    }
    assertThat(labels)
        .containsExactlyInAnyOrderElementsOf(
            answers.values().stream()
                .map(a -> a.startsWith("error") ? null : a.substring(0, a.indexOf(' ')))
                .toList());
    assertThat(answers).isEqualTo(expected());
    assertThat(answers.values()).contains("error CORRUPT", "error EMPTY");
  }

  /** A record of a user's own, holding an image. */
  public static final class Photo {
    public String name;
    public byte[] jpeg;

    public Photo() {}

    Photo(String name, byte[] jpeg) {
      this.name = name;
      this.jpeg = jpeg;
    }
  }

  @Test
  void aDataStreamJobWrittenAsAUserWouldGetsEachRecordBackWithItsResult() throws Exception {
    List<Photo> photos = new ArrayList<>();
    for (Path f : ImageFiles.expand(List.of(TestImages.folder()))) {
      photos.add(new Photo(f.getFileName().toString(), Files.readAllBytes(f)));
    }
    photos.add(new Photo("nothing", null));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment();
    env.setParallelism(2);
    DataStream<Photo> in = env.fromData(photos);
    DataStream<Tuple2<Photo, ClassifyResult>> labelled =
        ConveyorStreams.classify(
            in, p -> p.jpeg, Map.of("model", ClassifyOperatorTest.MODEL, "batch", "4"));

    Map<String, String> answers = new HashMap<>();
    try (CloseableIterator<Tuple2<Photo, ClassifyResult>> out = labelled.executeAndCollect()) {
      out.forEachRemaining(t -> assertThat(answers.put(t.f0.name, answer(t.f1))).isNull());
    }
    Map<String, String> expected = expected();
    expected.put("nothing", "error BAD_REQUEST");
    assertThat(answers).isEqualTo(expected);
  }

  @Test
  void theJobWithApiSqlRunsTheFunctionAndAnswersAsClassifyDoes() throws Exception {
    Map<String, String> settings = new HashMap<>();
    settings.put("model", ClassifyOperatorTest.MODEL);
    settings.put("batch", "4");
    settings.put("source", TestImages.folder().toString());
    settings.put("parallelism", "2");
    settings.put("api", "sql");
    Map<String, String> answers = new HashMap<>();
    Engine.Report report =
        FlinkJob.of(settings)
            .run(
                StreamExecutionEnvironment.getExecutionEnvironment(),
                UnaryOperator.identity(),
                new Engine.Listener() {
                  @Override
                  public void result(String json) {
                    ClassifyResult r = Json.read(json, ClassifyResult.class);
                    assertThat(r.source()).startsWith("/");
                    assertThat(answers.put(name(r.source()), answer(r))).isNull();
                  }
                });
    assertThat(answers).isEqualTo(expected());
    assertThat(report.results()).isEqualTo(answers.size());
    assertThat(report.errors())
        .isEqualTo(answers.values().stream().filter(a -> a.startsWith("error")).count());
    settings.put("source", "kafka://127.0.0.1:9/?topic=images");
    assertThatThrownBy(() -> FlinkJob.of(settings))
        .hasMessageContaining("--api sql runs the SQL function classify over a folder");
  }
}
