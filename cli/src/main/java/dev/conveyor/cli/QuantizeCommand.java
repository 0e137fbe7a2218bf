package dev.conveyor.cli;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.Pipelines;
import dev.conveyor.bench.Bench;
import dev.conveyor.bench.Corpus;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.Json;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.model.Classifier;
import dev.conveyor.core.model.Labels;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.topk.ScoreMode;
import dev.conveyor.core.topk.TopK;
import dev.conveyor.quantize.Quantizer;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
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
          + "channel.",
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
      names = "--seconds",
      paramLabel = "S",
      defaultValue = "5",
      description =
          "Raw throughput is measured for S seconds per model; 0 leaves it out. "
              + "Default: ${DEFAULT-VALUE}.")
  double seconds;

  /** How the two models compare on one set of images. */
  record Agreement(int images, int sameTop1, double maxScoreDifference) {
    double rate() {
      return images == 0 ? 0 : (double) sameTop1 / images;
    }
  }

  @Override
  public Integer call() throws Exception {
    Settings settings = CommandSettings.pipeline(spec);
    Quantizer.Options options = options();
    PrintWriter stdout = spec.commandLine().getOut();
    Path model = CommandSettings.usage(spec, () -> Pipelines.modelPath(settings));
    try (Pipeline fp32 = CommandSettings.open(spec, settings)) {
      List<Path> files = images(calibrate);
      Collections.shuffle(files, new Random(1));
      List<Path> chosen = files.subList(0, Math.min(count, files.size()));
      List<Path> rest =
          holdout != null
              ? images(holdout)
              : files.subList(chosen.size(), Math.min(files.size(), 2 * chosen.size()));
      List<byte[]> chosenBytes = read(chosen);
      List<float[]> calibration = preprocess(fp32, chosenBytes, "read");
      List<float[]> heldOut = preprocess(fp32, read(rest), "read held-out");
      if (calibration.isEmpty()) {
        throw new ParameterException(
            spec.commandLine(), "no image in " + calibrate + " could be read for calibration");
      }
      Quantizer.Samples samples =
          new Quantizer.Samples(fp32.preprocessor().spec().shape(), calibration);
      Quantizer.Result result;
      int passes = options.calibration() == Quantizer.Calibration.PERCENTILE ? 2 : 1;
      try (ProgressBar bar =
          Progress.bar("calibrate", (long) passes * calibration.size(), " img", 1, true)) {
        result =
            CommandSettings.usage(
                spec,
                () -> Quantizer.quantize(Files.readAllBytes(model), samples, options, bar::stepBy));
      }
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
        Agreement onCalibration = compare(fp32.classifier(), int8.classifier(), calibration);
        Agreement onHoldout = compare(fp32.classifier(), int8.classifier(), heldOut);
        double[] throughput = throughput(fp32, int8, chosenBytes);
        Map<String, Object> report =
            report(model, result, options, onCalibration, onHoldout, throughput, fp32);
        print(stdout, report);
        Path json = Path.of(TrainCommand.stem(out) + ".quantize.json");
        Files.writeString(json, Json.write(report) + "\n");
        stdout.printf("wrote %s and %s%n", out, json);
        stdout.flush();
      }
    }
    return 0;
  }

  private Quantizer.Options options() {
    try {
      return new Quantizer.Options(
          Quantizer.Calibration.valueOf(calibration.toUpperCase(Locale.ROOT)), percentile);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(
          spec.commandLine(),
          "--calibration is percentile or minmax, and --percentile above 50 and at most 100: "
              + e.getMessage());
    }
  }

  private List<Path> images(Path dir) {
    if (!Files.isDirectory(dir)) {
      throw new ParameterException(spec.commandLine(), "no folder at " + dir);
    }
    List<Path> files = new ArrayList<>(ImageFiles.expand(List.of(dir)));
    if (files.isEmpty()) {
      throw new ParameterException(spec.commandLine(), "no images in " + dir);
    }
    Collections.sort(files);
    return files;
  }

  private static List<byte[]> read(List<Path> files) throws IOException {
    List<byte[]> bytes = new ArrayList<>(files.size());
    for (Path f : files) {
      bytes.add(Files.readAllBytes(f));
    }
    return bytes;
  }

  /** The images preprocessed for the model; unreadable ones are left out. */
  private static List<float[]> preprocess(Pipeline pipeline, List<byte[]> images, String task) {
    List<float[]> tensors = new ArrayList<>();
    try (ProgressBar bar = Progress.bar(task, images.size(), " img", 1, true)) {
      for (byte[] image : images) {
        try {
          tensors.add(pipeline.preprocessor().preprocess(image));
        } catch (ConveyorException unreadable) {
          // not an image the model can take: nothing to calibrate or compare with
        }
        bar.step();
      }
    }
    return tensors;
  }

  /** Top-1 agreement and the largest softmax score difference of two models on the tensors. */
  static Agreement compare(Classifier a, Classifier b, List<float[]> tensors) {
    int classes = a.spec().classes();
    // top-1 as served; selecting also turns each image's scores into softmax probabilities
    TopK top = new TopK(1, ScoreMode.SOFTMAX, Labels.none());
    int batch = 16;
    int same = 0;
    double worst = 0;
    for (int from = 0; from < tensors.size(); from += batch) {
      int n = Math.min(batch, tensors.size() - from);
      FloatBuffer in = direct(n * tensors.get(0).length);
      for (int i = 0; i < n; i++) {
        in.put(tensors.get(from + i));
      }
      in.flip();
      FloatBuffer outA = direct(n * classes);
      FloatBuffer outB = direct(n * classes);
      a.run(in, n, outA);
      in.rewind();
      b.run(in, n, outB);
      float[] pa = new float[n * classes];
      float[] pb = new float[n * classes];
      outA.get(0, pa);
      outB.get(0, pb);
      for (int i = 0; i < n; i++) {
        int at = i * classes;
        if (top.select(pa, at, classes).get(0).index()
            == top.select(pb, at, classes).get(0).index()) {
          same++;
        }
        for (int c = at; c < at + classes; c++) {
          worst = Math.max(worst, Math.abs(pa[c] - pb[c]));
        }
      }
    }
    return new Agreement(tensors.size(), same, worst);
  }

  private static FloatBuffer direct(int floats) {
    return ByteBuffer.allocateDirect(floats * Float.BYTES)
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  /** Raw images/s of the float and the INT8 model, as bench measures its raw model. */
  private double[] throughput(Pipeline fp32, Pipeline int8, List<byte[]> images) {
    if (seconds <= 0) {
      return null;
    }
    Corpus corpus = new Corpus(images.subList(0, Math.min(64, images.size())));
    return new double[] {
      Bench.raw(fp32, corpus, seconds, "raw fp32").ips(),
      Bench.raw(int8, corpus, seconds, "raw int8").ips()
    };
  }

  private Map<String, Object> report(
      Path model,
      Quantizer.Result result,
      Quantizer.Options options,
      Agreement onCalibration,
      Agreement onHoldout,
      double[] throughput,
      Pipeline fp32)
      throws IOException {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("model", model.toString());
    r.put("quantized_model", out.toString());
    r.put("calibration", options.calibration().name().toLowerCase(Locale.ROOT));
    if (options.calibration() == Quantizer.Calibration.PERCENTILE) {
      r.put("percentile", options.percentile());
    }
    r.put("calibration_images", onCalibration.images());
    r.put("operators_quantized", result.quantized());
    r.put("operators_left_in_float", result.leftInFloat());
    r.put("batch_norms_folded", result.foldedBatchNorms());
    r.put("relus_done_by_range", result.droppedRelus());
    r.put("activations_quantized", result.tensors());
    Map<String, Object> size = new LinkedHashMap<>();
    size.put("fp32", Files.size(model));
    size.put("int8", Files.size(out));
    r.put("size_bytes", size);
    r.put("agreement_calibration", agreement(onCalibration));
    r.put("agreement_holdout", agreement(onHoldout));
    if (throughput != null) {
      Map<String, Object> t = new LinkedHashMap<>();
      t.put("batch", fp32.batchSize());
      t.put("fp32_images_per_second", throughput[0]);
      t.put("int8_images_per_second", throughput[1]);
      t.put("speedup", throughput[1] / throughput[0]);
      r.put("raw_throughput", t);
    }
    return r;
  }

  private static Map<String, Object> agreement(Agreement a) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("images", a.images());
    m.put("top1_agreement", a.rate());
    m.put("max_score_difference", a.maxScoreDifference());
    return m;
  }

  @SuppressWarnings("unchecked")
  private static void print(PrintWriter out, Map<String, Object> r) {
    out.printf("## conveyor quantize: %s → %s%n%n", r.get("model"), r.get("quantized_model"));
    out.printf(
        "calibration: %s on %s images; quantized %s; left in float %s%n%n",
        r.get("calibration"),
        r.get("calibration_images"),
        r.get("operators_quantized"),
        r.get("operators_left_in_float"));
    out.println("| | images | top-1 agreement | max score difference |");
    out.println("|---|---:|---:|---:|");
    for (String set : List.of("calibration", "holdout")) {
      Map<String, Object> a = (Map<String, Object>) r.get("agreement_" + set);
      if ((Integer) a.get("images") == 0) {
        out.printf("| %s | 0 | (no images: pass --holdout DIR) | |%n", set);
        continue;
      }
      out.printf(
          Locale.ROOT,
          "| %s | %d | %.4f | %.4f |%n",
          set,
          (Integer) a.get("images"),
          (Double) a.get("top1_agreement"),
          (Double) a.get("max_score_difference"));
    }
    Map<String, Object> size = (Map<String, Object>) r.get("size_bytes");
    out.printf(
        Locale.ROOT,
        "%nsize: %.1f MB → %.1f MB%n",
        ((Long) size.get("fp32")) / 1e6,
        ((Long) size.get("int8")) / 1e6);
    Map<String, Object> t = (Map<String, Object>) r.get("raw_throughput");
    if (t != null) {
      out.printf(
          Locale.ROOT,
          "raw model, batch %d: fp32 %.1f images/s, int8 %.1f images/s (%.2f×)%n",
          (Integer) t.get("batch"),
          (Double) t.get("fp32_images_per_second"),
          (Double) t.get("int8_images_per_second"),
          (Double) t.get("speedup"));
    }
    out.println();
  }
}
