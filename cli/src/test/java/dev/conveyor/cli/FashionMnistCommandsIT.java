package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Fashion-MNIST commands on Debian's dataset (./run-tests installs dataset-fashion-mnist), and
 * the model shipped in models/ as Conveyor's default.
 */
class FashionMnistCommandsIT {
  @TempDir Path dir;

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
            "--batch",
            "64",
            // a short run learns faster from the images as they are
            "--shift",
            "0",
            "--erase",
            "0",
            "--out",
            model.toString());
    assertThat(train.exitCode()).as(train.err()).isZero();
    assertThat(train.err()).contains("epoch 1/1");
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

    Path pngs = dir.resolve("png");
    assertThat(
            CliRun.of("dataset", "export-png", "--split", "test", "--out", pngs.toString())
                .exitCode())
        .isZero();
    // the model written answers through PNG files as it did in training's own test
    String evalReport = dir.resolve("small-eval").toString();
    CliRun eval =
        CliRun.of(
            "eval", "--model", model.toString(), "--data", pngs.toString(), "--report", evalReport);
    assertThat(eval.exitCode()).as(eval.err()).isZero();
    JsonNode evaluated = Json.mapper().readTree(Path.of(evalReport + ".json").toFile());
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
    Path pngs = dir.resolve("png");
    CliRun export = CliRun.of("dataset", "export-png", "--split", "test", "--out", pngs.toString());
    assertThat(export.exitCode()).as(export.err()).isZero();
    assertThat(export.out()).contains("wrote 10000 PNG files");

    String report = dir.resolve("shipped").toString();
    CliRun eval = CliRun.of("eval", "--data", pngs.toString(), "--report", report);
    assertThat(eval.exitCode()).as(eval.err()).isZero();
    JsonNode json = Json.mapper().readTree(Path.of(report + ".json").toFile());
    assertThat(json.get("images").asInt()).isEqualTo(10_000);
    // what its training report says, through PNG files
    JsonNode trained =
        Json.mapper()
            .readTree(
                Path.of(System.getProperty("conveyor.home", ".."))
                    .resolve("models/fashion-mnist.report.json")
                    .toFile());
    assertThat(json.get("accuracy").asDouble())
        .isGreaterThanOrEqualTo(0.94)
        .isCloseTo(trained.get("test_accuracy").asDouble(), within(0.002));
    assertThat(json.get("model").asText()).isEqualTo("fashion-mnist");
    assertThat(Files.size(Path.of(report + ".confusion.png"))).isGreaterThan(10_000);

    // the IDX path encodes the same pixels as PNG in memory: the same answer
    CliRun idx = CliRun.of("eval", "--report", dir.resolve("idx").toString());
    JsonNode idxJson = Json.mapper().readTree(dir.resolve("idx.json").toFile());
    assertThat(idx.exitCode()).isZero();
    assertThat(idxJson.get("accuracy").asDouble()).isEqualTo(json.get("accuracy").asDouble());
  }

  @Test
  void theShippedModelQuantizedToInt8KeepsItsAccuracy() throws Exception {
    Path train = dir.resolve("train");
    Path test = dir.resolve("test");
    assertThat(
            CliRun.of("dataset", "export-png", "--split", "train", "--out", train.toString())
                .exitCode())
        .isZero();
    assertThat(
            CliRun.of("dataset", "export-png", "--split", "test", "--out", test.toString())
                .exitCode())
        .isZero();
    Path int8 = dir.resolve("fashion-int8.onnx");
    CliRun quantize =
        CliRun.of(
            "quantize",
            "--calibrate",
            train.toString(),
            "--count",
            "256",
            "--out",
            int8.toString(),
            "--seconds",
            "1");
    assertThat(quantize.exitCode()).as(quantize.err()).isZero();
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

    // on the 10,000 test images, through PNG decoding: within 0.3 points of the float model
    double[] accuracy = new double[2];
    String[] models = {"models/fashion-mnist.onnx", int8.toString()};
    for (int i = 0; i < 2; i++) {
      String prefix = dir.resolve("eval" + i).toString();
      CliRun eval =
          CliRun.of(
              "eval",
              "--model",
              Path.of(System.getProperty("conveyor.home", "..")).resolve(models[i]).toString(),
              "--data",
              test.toString(),
              "--report",
              prefix);
      assertThat(eval.exitCode()).as(eval.err()).isZero();
      accuracy[i] =
          Json.mapper().readTree(Path.of(prefix + ".json").toFile()).get("accuracy").asDouble();
    }
    assertThat(accuracy[1]).isCloseTo(accuracy[0], within(0.003));
    // and so does the INT8 version shipped beside it
    String shipped = dir.resolve("shipped-int8").toString();
    CliRun eval =
        CliRun.of(
            "eval",
            "--model",
            Path.of(System.getProperty("conveyor.home", ".."))
                .resolve("models/fashion-mnist-int8.onnx")
                .toString(),
            "--data",
            test.toString(),
            "--report",
            shipped);
    assertThat(eval.exitCode()).as(eval.err()).isZero();
    assertThat(
            Json.mapper().readTree(Path.of(shipped + ".json").toFile()).get("accuracy").asDouble())
        .isCloseTo(accuracy[0], within(0.003));

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
