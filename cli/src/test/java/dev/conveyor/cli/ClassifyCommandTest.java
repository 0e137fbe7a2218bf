package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.assembly.Pipelines;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.onnx.testing.TestModels.Colour;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassifyCommandTest {
  @TempDir static Path dir;
  static Path model;

  @BeforeAll
  static void writeModel() {
    model = TestModels.writeColour(dir.resolve("colours.onnx"), Colour.imagenetSized());
  }

  @Test
  void thePipelineOpenedFromAMapGivesWhatClassifyPrints() throws Exception {
    List<Path> files;
    try (var list = Files.list(TestImages.folder())) {
      files = list.sorted().toList();
    }
    CliRun run =
        CliRun.of(
            "classify",
            "--model",
            model.toString(),
            "--preset",
            "caffe",
            "--top",
            "2",
            "--batch",
            "3",
            "--no-progress",
            TestImages.folder().toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    List<ClassifyResult> direct;
    try (Pipeline pipeline =
        Pipelines.open(
            Map.of(
                "model",
                model.toString(),
                "preset",
                "caffe",
                "top",
                "2",
                "batch",
                "3",
                "fetch-allow",
                "file:" + TestImages.folder()))) {
      direct =
          pipeline.classify(files.stream().map(f -> ImageRequest.ofKey(f.toString())).toList());
    }
    List<JsonNode> printed = run.jsonLines();
    assertThat(printed).hasSameSizeAs(direct);
    for (int i = 0; i < direct.size(); i++) {
      JsonNode line = printed.get(i);
      ClassifyResult r = direct.get(i);
      assertThat(line.get("source").asText()).isEqualTo(r.source());
      assertThat(line.get("status").asText()).isEqualTo(r.isOk() ? "ok" : "error");
      if (r.isOk()) {
        for (int k = 0; k < 2; k++) {
          assertThat(line.at("/predictions/" + k + "/label").asText())
              .isEqualTo(r.predictions().get(k).label());
          assertThat(line.at("/predictions/" + k + "/score").asDouble())
              .isCloseTo(r.predictions().get(k).score(), org.assertj.core.data.Offset.offset(1e-6));
        }
      } else {
        assertThat(line.at("/error/code").asText()).isEqualTo(r.error().code().name());
      }
    }
  }

  @Test
  void everyFileInAFolderOfGoodOddAndBrokenImagesGetsOneJsonLineInOrder() throws Exception {
    Path folder = TestImages.folder();
    List<Path> expected;
    try (var files = Files.list(folder)) {
      expected = files.sorted().toList();
    }
    CliRun run =
        CliRun.of("classify", "--model", model.toString(), "--no-progress", folder.toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    List<JsonNode> lines = run.jsonLines();
    assertThat(lines)
        .extracting(l -> l.get("source").asText())
        .containsExactlyElementsOf(expected.stream().map(Path::toString).toList());
    Map<String, JsonNode> bySource =
        lines.stream()
            .collect(
                Collectors.toMap(
                    l -> Path.of(l.get("source").asText()).getFileName().toString(), l -> l));
    assertThat(bySource.get("cmyk-red.jpg").at("/predictions/0/label").asText()).isEqualTo("red");
    assertThat(bySource.get("palette-blue.png").at("/predictions/0/label").asText())
        .isEqualTo("blue");
    assertThat(bySource.get("rgb16-green.png").at("/predictions/0/label").asText())
        .isEqualTo("green");
    assertThat(bySource.get("empty.jpg").at("/error/code").asText()).isEqualTo("EMPTY");
    assertThat(bySource.get("truncated.jpg").at("/error/code").asText()).isEqualTo("CORRUPT");
    assertThat(bySource.get("not-an-image.txt").at("/error/code").asText())
        .isEqualTo("UNSUPPORTED_FORMAT");
    JsonNode ok = bySource.get("cmyk-red.jpg");
    assertThat(ok.get("status").asText()).isEqualTo("ok");
    assertThat(ok.get("model").asText()).isEqualTo("colours");
    assertThat(ok.get("id").asText()).isNotBlank();
    assertThat(ok.get("latency_ms").asDouble()).isPositive();
    assertThat(ok.get("predictions")).hasSize(3);
    double sum = 0;
    for (JsonNode p : ok.get("predictions")) {
      sum += p.get("score").asDouble();
    }
    assertThat(sum)
        .as("softmax scores of all three classes")
        .isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
    assertThat(bySource.get("empty.jpg").get("status").asText()).isEqualTo("error");
    assertThat(bySource.get("empty.jpg").has("predictions")).isFalse();
  }

  @Test
  void aMissingFileIsAnErrorResultNotAFailedRun() {
    CliRun run =
        CliRun.of("classify", "--model", model.toString(), dir.resolve("nope.jpg").toString());
    assertThat(run.exitCode()).isZero();
    assertThat(run.jsonLines())
        .singleElement()
        .satisfies(l -> assertThat(l.at("/error/code").asText()).isEqualTo("NOT_FOUND"));
  }

  @Test
  void theFilesNamedOnTheCommandLineAreReadWithNoFetchAllow() throws Exception {
    // the operator's own command line grants its files; no --fetch-allow is needed for them
    Path image = Files.copy(TestImages.folder().resolve("yellow.bmp"), dir.resolve("y.bmp"));
    CliRun run = CliRun.of("classify", "--model", model.toString(), image.toString());
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.jsonLines().get(0).get("status").asText()).isEqualTo("ok");
  }

  @Test
  void topAndRawScoresAreHonoured() {
    Path image = TestImages.folder().resolve("yellow.bmp");
    CliRun run =
        CliRun.of(
            "classify",
            "--model",
            model.toString(),
            "--top",
            "1",
            "--scores",
            "raw",
            image.toString());
    JsonNode line = run.jsonLines().get(0);
    assertThat(line.get("predictions")).hasSize(1);
    assertThat(line.at("/predictions/0/score").asDouble())
        .as("a raw channel mean, not a probability")
        .isGreaterThan(1.0);
  }

  @Test
  void usageErrorsExitWithTwoAndSayWhatToDo() {
    CliRun noModel =
        CliRun.of("classify", "--model", dir.resolve("missing.onnx").toString(), "x.jpg");
    assertThat(noModel.exitCode()).isEqualTo(2);
    assertThat(noModel.err()).contains("no model file at").contains("pass --model PATH");

    CliRun badPreset =
        CliRun.of("classify", "--model", model.toString(), "--preset", "vgg", "x.jpg");
    assertThat(badPreset.exitCode()).isEqualTo(2);
    assertThat(badPreset.err()).contains("unknown preset 'vgg'");

    CliRun noFiles = CliRun.of("classify", "--model", model.toString());
    assertThat(noFiles.exitCode()).isEqualTo(2);
    assertThat(noFiles.err()).contains("Missing required parameter");
  }

  @Test
  void presetsAndOverridesChangeWhatTheModelSees() {
    // caffe is BGR: the red image's strongest channel lands in the model's third ("blue") input
    Path red = TestImages.folder().resolve("cmyk-red.jpg");
    CliRun bgr =
        CliRun.of("classify", "--model", model.toString(), "--preset", "caffe", red.toString());
    assertThat(bgr.jsonLines().get(0).at("/predictions/0/label").asText()).isEqualTo("blue");
    CliRun rgb =
        CliRun.of(
            "classify",
            "--model",
            model.toString(),
            "--preset",
            "caffe",
            "--color",
            "rgb",
            red.toString());
    assertThat(rgb.jsonLines().get(0).at("/predictions/0/label").asText()).isEqualTo("red");
  }
}
