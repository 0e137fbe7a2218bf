package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.bench.Corpus;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.onnx.testing.TestModels.Colour;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchCommandTest {
  @TempDir Path dir;

  @Test
  void measuresEveryStageAndWritesTableJsonAndChart() throws Exception {
    Path model = TestModels.writeColour(dir.resolve("colours.onnx"), Colour.imagenetSized());
    Path chart = dir.resolve("out/bench.png");
    CliRun run =
        CliRun.of(
            "bench",
            "--model",
            model.toString(),
            "--images",
            TestImages.folder().toString(),
            "--seconds",
            "0.5",
            "--batch",
            "4",
            "--chart",
            chart.toString(),
            "--json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("| raw model: tensors in memory, batch 4")
        .contains("pipeline: embedded");
    JsonNode json = run.jsonLines().get(0);
    for (String field :
        new String[] {"raw_ips", "preprocess_ips", "pipeline_ips", "ratio", "p50_ms", "p99_ms"}) {
      assertThat(json.get(field).asDouble()).as(field).isPositive();
    }
    assertThat(json.get("ratio").asDouble())
        .isCloseTo(
            json.get("pipeline_ips").asDouble() / json.get("raw_ips").asDouble(),
            org.assertj.core.data.Offset.offset(0.01));
    assertThat(json.get("p99_ms").asDouble()).isGreaterThanOrEqualTo(json.get("p50_ms").asDouble());
    byte[] png = Files.readAllBytes(chart);
    assertThat(png).startsWith(0x89, 'P', 'N', 'G');
    assertThat(png.length).isGreaterThan(10_000);
  }

  @Test
  void generatedImagesAreDecodablePhotoSizedJpegs() {
    var images = Corpus.generate(3).images();
    assertThat(images).hasSize(3);
    assertThat(images.get(0)).startsWith(0xFF, 0xD8);
    assertThat(images.get(0)).isNotEqualTo(images.get(1));
  }
}
