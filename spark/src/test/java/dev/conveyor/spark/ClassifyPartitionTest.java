package dev.conveyor.spark;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import dev.conveyor.core.model.ModelRepository;
import dev.conveyor.core.testing.TestImages;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.LongAccumulator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A micro-batch's partition, classified as an executor classifies it, without a Spark cluster. */
@Timeout(90)
class ClassifyPartitionTest {
  private static final Path MODEL =
      Path.of("..", "models", "fashion-mnist.onnx").toAbsolutePath().normalize();

  @TempDir Path repo;

  /** The bundled model, published into the repository as the next version of {@code name}. */
  private long publish(String name) {
    return ModelRepository.create(repo).publish(name, MODEL);
  }

  private static Row request(String id, String model) {
    String image = TestImages.folder().resolve("palette-blue.png").toString();
    return RowFactory.create(id, image, null, null, null, model);
  }

  private static List<JsonNode> classify(ClassifyPartition partition, Row... rows) {
    List<JsonNode> out = new ArrayList<>();
    Iterator<Row> results = partition.call(List.of(rows).iterator());
    results.forEachRemaining(r -> out.add(Json.read(r.getString(3), JsonNode.class)));
    return out;
  }

  private static String madeBy(JsonNode result) {
    return result.get("model").asText() + " " + result.get("version").asLong();
  }

  @Test
  void aRepositorysModelsAnswerTheRowsNamingThemAndANewVersionTakesTheBatchesAfterIt()
      throws Exception {
    assertThat(publish("fashion")).isEqualTo(1);
    assertThat(publish("other")).isEqualTo(1);
    ClassifyPartition partition =
        new ClassifyPartition(
            Map.of(
                "models", repo.toString(),
                "default-model", "fashion",
                "models-poll", "1",
                "batch", "2",
                "fetch-allow", "file:" + TestImages.folder()),
            new LongAccumulator(),
            new LongAccumulator());
    List<JsonNode> first =
        classify(
            partition,
            request("a", null),
            request("b", "other"),
            request("c", "nope"),
            request("d", "fashion"));
    assertThat(first).extracting(r -> r.get("id").asText()).containsExactly("a", "b", "c", "d");
    assertThat(madeBy(first.get(0))).isEqualTo("fashion 1");
    assertThat(madeBy(first.get(1))).isEqualTo("other 1");
    assertThat(first.get(2).at("/error/code").asText())
        .as("an unknown model is an error row, and the partition goes on")
        .isEqualTo("UNKNOWN_MODEL");
    assertThat(madeBy(first.get(3))).isEqualTo("fashion 1");

    // version 2 published while the executor serves: the batches after it are classified by it
    assertThat(publish("fashion")).isEqualTo(2);
    List<Long> versions = new ArrayList<>();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!versions.contains(2L) && System.nanoTime() < deadline) {
      classify(partition, request("e", null)).forEach(r -> versions.add(r.get("version").asLong()));
      Thread.sleep(50);
    }
    classify(partition, request("f", null), request("g", null), request("h", "fashion"))
        .forEach(r -> versions.add(r.get("version").asLong()));
    assertThat(versions).contains(2L);
    assertThat(versions.subList(versions.indexOf(2L), versions.size())).containsOnly(2L);
  }

  @Test
  void theQueryTakesTheRepositorysSettings() throws IOException {
    assertThat(publish("fashion")).isEqualTo(1);
    SparkJob job =
        SparkJob.of(
            Map.of(
                "source", TestImages.folder().toString(),
                "models", repo.toString(),
                "default-model", "fashion"));
    assertThat(job.name()).isNotBlank();
  }
}
