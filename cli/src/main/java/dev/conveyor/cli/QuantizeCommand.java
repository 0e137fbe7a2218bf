package dev.conveyor.cli;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.Pipelines;
import dev.conveyor.bench.Bench;
import dev.conveyor.bench.Corpus;
import dev.conveyor.core.Json;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.quantize.Agreement;
import dev.conveyor.quantize.CalibrationSet;
import dev.conveyor.quantize.QuantizeReport;
import dev.conveyor.quantize.Quantizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code conveyor quantize}: static INT8 quantization of an ONNX model, calibrated on images. */
@Command(
    name = "quantize",
    header = "Quantize an ONNX model to INT8, calibrated on your images, and compare it.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Static post-training quantization in the QDQ format, which ONNX Runtime runs with its "
          + "integer kernels (VNNI on recent x86 CPUs). The images in --calibrate go through the "
          + "same preprocessing as classifying with --model and --preset; the float model's "
          + "activations on them set the INT8 ranges. Weights are INT8 with one scale per output "
          + "channel, in 7 bits where the CPU lacks VNNI (--reduce-range).",
      "",
      "Quantized: Conv, Gemm and MatMul with constant weights, Add, Concat, the pools, and the "
          + "shape operators between them; BatchNormalization after Conv is folded first, and "
          + "Relu after a quantized operator is done by its range. Anything else stays in float.",
      "",
      "Then both models classify the calibration images and held-out ones (--holdout, or the "
          + "images of --calibrate not used to calibrate): top-1 agreement and the largest "
          + "softmax score difference, the sizes, and the raw throughput of each, measured as "
          + "'conveyor bench' measures its raw model. The report is printed and written to "
          + "OUT-NAME.quantize.json.",
      "",
    })
final class QuantizeCommand implements Callable<Integer>, SettingOptions.Taking {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public SettingGroup[] settings() {
    return CommandSettings.PIPELINE;
  }

  @Option(
      names = "--calibrate",
      paramLabel = "DIR",
      required = true,
      description = "Images like the ones the model will see (a folder, searched recursively).")
  Path calibrate;

  @Option(
      names = "--holdout",
      paramLabel = "DIR",
      description =
          "Images to check agreement on. Default: those of --calibrate not used to calibrate.")
  Path holdout;

  @Option(
      names = "--out",
      paramLabel = "OUT.onnx",
      required = true,
      description = "Where to write the INT8 model.")
  Path out;

  @Mixin PublishOption publish;

  @Option(
      names = "--count",
      paramLabel = "N",
      defaultValue = "256",
      description =
          "Calibration images, picked at random (seeded) from --calibrate; as many again are "
              + "held out. Default: ${DEFAULT-VALUE}.")
  int count;

  @Option(
      names = "--calibration",
      paramLabel = "percentile|minmax",
      defaultValue = "percentile",
      description =
          "How ranges are set: cut off the rarest values (percentile) or keep every value seen "
              + "(minmax). Default: ${DEFAULT-VALUE}.")
  String calibration;

  @Option(
      names = "--percentile",
      paramLabel = "P",
      defaultValue = "99.999",
      description =
          "With percentile calibration, the share of values kept. Default: ${DEFAULT-VALUE}.")
  double percentile;

  @Option(
      names = "--reduce-range",
      negatable = true,
      description =
          "Weights in 7 bits instead of 8, so that ONNX Runtime's integer kernels do not "
              + "saturate on x86-64 CPUs without VNNI (AVX2 only), at a little precision. "
              + "Default: on where this machine's CPU lacks VNNI, off otherwise.")
  Boolean reduceRange;

  @Option(
      names = "--seconds",
      paramLabel = "S",
      defaultValue = "5",
      description =
          "Raw throughput is measured for S seconds per model; 0 leaves it out. "
              + "Default: ${DEFAULT-VALUE}.")
  double seconds;

  @Override
  public Integer call() throws Exception {
    Settings settings = CommandSettings.pipeline(spec);
    Quantizer.Options options = options();
    Path model = CommandSettings.usage(spec, () -> Pipelines.modelPath(settings));
    try (Pipeline fp32 = CommandSettings.open(spec, settings)) {
      CalibrationSet set =
          CommandSettings.usage(spec, () -> CalibrationSet.pick(calibrate, holdout, count));
      List<byte[]> chosen = CalibrationSet.read(set.chosen());
      List<float[]> calibration = preprocess(fp32, chosen, "read");
      List<float[]> heldOut = preprocess(fp32, CalibrationSet.read(set.heldOut()), "read held-out");
      if (calibration.isEmpty()) {
        throw new ParameterException(
            spec.commandLine(), "no image in " + calibrate + " could be read for calibration");
      }
      Quantizer.Result result = quantize(model, options, fp32, calibration);
      if (out.getParent() != null) {
        Files.createDirectories(out.getParent());
      }
      Files.write(out, result.model());
      Map<String, String> given = new HashMap<>(settings.given());
      given.put(PipelineSettings.MODEL.name(), out.toString());
      Settings int8Settings =
          CommandSettings.usage(
              spec, () -> Settings.read(given, "command-line", CommandSettings.PIPELINE));
      try (Pipeline int8 = CommandSettings.open(spec, int8Settings)) {
        QuantizeReport report =
            new QuantizeReport(
                model,
                out,
                result,
                options,
                Agreement.of(fp32.classifier(), int8.classifier(), calibration),
                Agreement.of(fp32.classifier(), int8.classifier(), heldOut),
                Files.size(model),
                Files.size(out),
                throughput(fp32, int8, chosen));
        PrintWriter stdout = spec.commandLine().getOut();
        report.print(stdout);
        Path json = Path.of(TrainCommand.stem(out) + ".quantize.json");
        Files.writeString(json, Json.write(report.toJson()) + "\n");
        stdout.printf("wrote %s and %s%n", out, json);
        stdout.flush();
        publish.publish(spec, CommandSettings.read(spec, FetchSettings.SETTINGS), out, stdout);
      }
    }
    return 0;
  }

  private Quantizer.Options options() {
    try {
      Quantizer.Options options =
          new Quantizer.Options(
              Quantizer.Calibration.valueOf(calibration.toUpperCase(Locale.ROOT)), percentile);
      return reduceRange == null ? options : options.withReduceRange(reduceRange);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(),
          "--calibration is percentile or minmax, and --percentile above 50 and at most 100: "
              + e.getMessage());
    }
  }

  private Quantizer.Result quantize(
      Path model, Quantizer.Options options, Pipeline fp32, List<float[]> calibration)
      throws IOException {
    Quantizer.Samples samples =
        new Quantizer.Samples(fp32.preprocessor().spec().shape(), calibration);
    int passes = options.calibration() == Quantizer.Calibration.PERCENTILE ? 2 : 1;
    byte[] bytes = Files.readAllBytes(model);
    try (ProgressBar bar =
        Progress.bar("calibrate", (long) passes * calibration.size(), " img", 1, true)) {
      return CommandSettings.usage(
          spec, () -> Quantizer.quantize(bytes, samples, options, bar::stepBy));
    }
  }

  private static List<float[]> preprocess(Pipeline pipeline, List<byte[]> images, String task) {
    try (ProgressBar bar = Progress.bar(task, images.size(), " img", 1, true)) {
      return CalibrationSet.preprocess(pipeline.preprocessor(), images, bar::stepBy);
    }
  }

  /** Raw images/s of the float and the INT8 model, as bench measures its raw model. */
  private QuantizeReport.Throughput throughput(Pipeline fp32, Pipeline int8, List<byte[]> images) {
    if (seconds <= 0) {
      return null;
    }
    Corpus corpus = new Corpus(images.subList(0, Math.min(64, images.size())));
    return new QuantizeReport.Throughput(
        fp32.batchSize(),
        Bench.raw(fp32, corpus, seconds, "raw fp32").ips(),
        Bench.raw(int8, corpus, seconds, "raw int8").ips());
  }
}
