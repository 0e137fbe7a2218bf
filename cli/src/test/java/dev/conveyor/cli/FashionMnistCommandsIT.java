package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.fetch.ObjectStore;
import dev.conveyor.core.fetch.ObjectStores;
import dev.conveyor.core.model.ModelRepository;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.testing.S3Server;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Fashion-MNIST commands on Debian's dataset (./run-tests installs dataset-fashion-mnist), and
 * the model shipped in models/ as Conveyor's default.
 */
class FashionMnistCommandsIT {
  private static final Path ROOT = Path.of(System.getProperty("conveyor.home", ".."));

  @TempDir Path dir;

  /** The dataset's {@code split}, all its {@code images}, as PNG files in class folders. */
  private Path exportPng(String split, int images) {
    Path out = dir.resolve(split);
    CliRun export = CliRun.of("dataset", "export-png", "--split", split, "--out", out.toString());
    assertThat(export.exitCode()).as(export.err()).isZero();
    assertThat(export.out()).contains("wrote " + images + " PNG files");
    return out;
  }

  /**
   * {@code conveyor eval} with these arguments, its report written as {@code name}.json and {@code
   * name}.confusion.png in {@code dir}: the report.
   */
  private JsonNode eval(String name, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of("eval", "--report", report(name)));
    command.addAll(List.of(args));
    CliRun eval = CliRun.of(command.toArray(String[]::new));
    assertThat(eval.exitCode()).as(eval.err()).isZero();
    return Json.mapper().readTree(Path.of(report(name) + ".json").toFile());
  }

  /** The top-1 accuracy {@code eval} reports for {@code model} on the images in {@code data}. */
  private double accuracy(String name, Path model, Path data) throws IOException {
    return eval(name, "--model", model.toString(), "--data", data.toString())
        .get("accuracy")
        .asDouble();
  }

  private String report(String name) {
    return dir.resolve(name).toString();
  }

  @Test
  void aShortTrainingRunWritesAModelAndReportThatClassifyUses() throws Exception {
    Path model = dir.resolve("small.onnx");
    CliRun train =
        CliRun.of(
            "train",
            "--limit",
            "1500",
            "--epochs",
            "1",
            "--minibatch",
            "64",
            // a short run learns faster from the images as they are
            "--shift",
            "0",
            "--erase",
            "0",
            "--out",
            model.toString(),
            "--publish",
            dir.resolve("repo/fashion").toString());
    assertThat(train.exitCode()).as(train.err()).isZero();
    assertThat(train.err()).contains("epoch 1/1");
    // published too, as the first version of the model, for workers serving the repository
    assertThat(train.out()).contains("as fashion version 1 in " + dir.resolve("repo"));
    assertThat(dir.resolve("repo/fashion/1/model.onnx")).hasSameBinaryContentAs(model);
    for (String suffix :
        new String[] {".labels.txt", ".report.json", ".curve.png", ".confusion.png"}) {
      assertThat(dir.resolve("small" + suffix)).exists();
    }
    JsonNode report = Json.mapper().readTree(dir.resolve("small.report.json").toFile());
    assertThat(report.get("test_accuracy").asDouble())
        .as("far above chance (0.1)")
        .isGreaterThan(0.5);
    assertThat(report.get("per_class_accuracy").size()).isEqualTo(10);
    assertThat(report.at("/augmentation/shift").asInt()).isZero();
    assertThat(report.at("/augmentation/flip").asBoolean()).isTrue();
    assertThat(report.get("history")).hasSize(1);

    Path pngs = exportPng("test", 10_000);
    // the model written answers through PNG files as it did in training's own test
    JsonNode evaluated = eval("small-eval", "--model", model.toString(), "--data", pngs.toString());
    assertThat(evaluated.get("images").asInt()).isEqualTo(10_000);
    assertThat(evaluated.get("accuracy").asDouble())
        .isCloseTo(report.get("test_accuracy").asDouble(), within(0.002));

    CliRun classify =
        CliRun.of(
            "classify",
            "--model",
            model.toString(),
            pngs.resolve("Trouser").resolve("00002.png").toString());
    JsonNode line = classify.jsonLines().get(0);
    assertThat(line.get("status").asText()).isEqualTo("ok");
    assertThat(line.at("/predictions/0/label").asText()).isEqualTo("Trouser");
  }

  @Test
  void theShippedModelIsTheDefaultAndReachesItsReportedAccuracyThroughPngFiles() throws Exception {
    Path pngs = exportPng("test", 10_000);

    JsonNode json = eval("shipped", "--data", pngs.toString());
    assertThat(json.get("images").asInt()).isEqualTo(10_000);
    // what its training report says, through PNG files
    JsonNode trained =
        Json.mapper().readTree(ROOT.resolve("models/fashion-mnist.report.json").toFile());
    assertThat(json.get("accuracy").asDouble())
        .isGreaterThanOrEqualTo(0.94)
        .isCloseTo(trained.get("test_accuracy").asDouble(), within(0.002));
    assertThat(json.get("model").asText()).isEqualTo("fashion-mnist");
    assertThat(Files.size(Path.of(report("shipped") + ".confusion.png"))).isGreaterThan(10_000);

    // the IDX path encodes the same pixels as PNG in memory: the same answer
    JsonNode idxJson = eval("idx");
    assertThat(idxJson.get("accuracy").asDouble()).isEqualTo(json.get("accuracy").asDouble());
  }

  @Test
  void theShippedModelQuantizedToInt8KeepsItsAccuracy() throws Exception {
    Path train = exportPng("train", 60_000);
    Path test = exportPng("test", 10_000);
    Path int8 = dir.resolve("fashion-int8.onnx");
    CliRun quantize;
    try (S3Server s3 = S3Server.start(Files.createDirectories(dir.resolve("s3")))) {
      Settings client = Settings.read(s3.settings(), "test", FetchSettings.SETTINGS);
      try (ObjectStore bucket = ObjectStores.open("s3://models", client)) {
        bucket.checkBucket(true);
      }
      quantize =
          CliRun.of(
              "quantize",
              "--calibrate",
              train.toString(),
              "--count",
              "256",
              "--out",
              int8.toString(),
              "--seconds",
              "1",
              "--publish",
              "s3://models/fleet/fashion-int8",
              "--s3-endpoint",
              s3.endpoint(),
              "--s3-path-style",
              "--s3-region",
              "us-east-1");
      assertThat(quantize.exitCode()).as(quantize.err()).isZero();
      // published into the repository kept in the bucket, as its first version
      assertThat(quantize.out()).contains("as fashion-int8 version 1 in s3://models/fleet");
      try (ModelRepository repo = ModelRepository.open("s3://models/fleet", client)) {
        Path published = repo.index().model("fashion-int8").orElseThrow().latest().file();
        assertThat(published).hasSameBinaryContentAs(int8);
      }
    }
    assertThat(quantize.out()).contains("top-1 agreement", "int8");
    JsonNode report = Json.mapper().readTree(dir.resolve("fashion-int8.quantize.json").toFile());
    assertThat(report.at("/operators_quantized/Conv").asInt()).isEqualTo(4);
    assertThat(report.at("/operators_quantized/Gemm").asInt()).isEqualTo(2);
    assertThat(report.at("/batch_norms_folded").asInt()).isEqualTo(4);
    assertThat(report.at("/agreement_holdout/images").asInt()).isEqualTo(256);
    assertThat(report.at("/agreement_holdout/top1_agreement").asDouble()).isGreaterThan(0.98);
    assertThat(report.at("/size_bytes/int8").asLong() * 3)
        .isLessThan(report.at("/size_bytes/fp32").asLong());
    assertThat(report.at("/raw_throughput/int8_images_per_second").asDouble()).isPositive();

    // on the 10,000 test images, through PNG decoding: within 0.3 points of the float model, and
    // so is the INT8 version shipped beside it
    double float32 = accuracy("float", ROOT.resolve("models/fashion-mnist.onnx"), test);
    assertThat(accuracy("int8", int8, test)).isCloseTo(float32, within(0.003));
    assertThat(accuracy("shipped-int8", ROOT.resolve("models/fashion-mnist-int8.onnx"), test))
        .isCloseTo(float32, within(0.003));

    CliRun wrong =
        CliRun.of(
            "quantize",
            "--calibrate",
            train.toString(),
            "--out",
            int8.toString(),
            "--calibration",
            "entropy");
    assertThat(wrong.exitCode()).isEqualTo(2);
    assertThat(wrong.err()).contains("percentile or minmax");
  }

  @Test
  void aMissingDatasetIsAUsageErrorThatSaysHowToGetIt() {
    CliRun run = CliRun.of("eval", "--data", dir.resolve("nowhere").toString());
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("apt-get install dataset-fashion-mnist");
  }
}
