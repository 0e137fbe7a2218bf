package dev.conveyor.quantize;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What {@code conveyor quantize} reports of a quantization: the operators quantized, the agreement
 * of the two models on the calibration and held-out images, their sizes and raw throughputs; as a
 * JSON object ({@link #toJson}) and as Markdown ({@link #print}).
 *
 * @param throughput null when it was not measured
 */
public record QuantizeReport(
    Path model,
    Path quantizedModel,
    Quantizer.Result result,
    Quantizer.Options options,
    Agreement onCalibration,
    Agreement onHoldout,
    long fp32Bytes,
    long int8Bytes,
    Throughput throughput) {

  /** Raw images/s of each model at one batch size, as {@code conveyor bench} measures its model. */
  public record Throughput(int batch, double fp32, double int8) {}

  /** The report as JSON, with snake_case keys. */
  public Map<String, Object> toJson() {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("model", model.toString());
    r.put("quantized_model", quantizedModel.toString());
    r.put("calibration", calibration());
    if (options.calibration() == Quantizer.Calibration.PERCENTILE) {
      r.put("percentile", options.percentile());
    }
    r.put("calibration_images", onCalibration.images());
    r.put("reduce_range", options.reduceRange());
    r.put("operators_quantized", result.quantized());
    r.put("operators_left_in_float", result.leftInFloat());
    r.put("batch_norms_folded", result.foldedBatchNorms());
    r.put("relus_done_by_range", result.droppedRelus());
    r.put("activations_quantized", result.tensors());
    Map<String, Object> size = new LinkedHashMap<>();
    size.put("fp32", fp32Bytes);
    size.put("int8", int8Bytes);
    r.put("size_bytes", size);
    r.put("agreement_calibration", agreement(onCalibration));
    r.put("agreement_holdout", agreement(onHoldout));
    if (throughput != null) {
      Map<String, Object> t = new LinkedHashMap<>();
      t.put("batch", throughput.batch());
      t.put("fp32_images_per_second", throughput.fp32());
      t.put("int8_images_per_second", throughput.int8());
      t.put("speedup", throughput.int8() / throughput.fp32());
      r.put("raw_throughput", t);
    }
    return r;
  }

  /** The report as Markdown: a summary line, the agreement table, sizes and throughput. */
  public void print(PrintWriter out) {
    out.printf("## conveyor quantize: %s → %s%n%n", model, quantizedModel);
    out.printf(
        "calibration: %s on %s images; weights in %d bits; quantized %s; left in float %s%n%n",
        calibration(),
        onCalibration.images(),
        options.reduceRange() ? 7 : 8,
        result.quantized(),
        result.leftInFloat());
    out.println("| | images | top-1 agreement | max score difference |");
    out.println("|---|---:|---:|---:|");
    for (String set : List.of("calibration", "holdout")) {
      Agreement a = set.equals("calibration") ? onCalibration : onHoldout;
      if (a.images() == 0) {
        out.printf("| %s | 0 | (no images: pass --holdout DIR) | |%n", set);
        continue;
      }
      out.printf(
          Locale.ROOT,
          "| %s | %d | %.4f | %.4f |%n",
          set,
          a.images(),
          a.rate(),
          a.maxScoreDifference());
    }
    out.printf(Locale.ROOT, "%nsize: %.1f MB → %.1f MB%n", fp32Bytes / 1e6, int8Bytes / 1e6);
    if (throughput != null) {
      out.printf(
          Locale.ROOT,
          "raw model, batch %d: fp32 %.1f images/s, int8 %.1f images/s (%.2f×)%n",
          throughput.batch(),
          throughput.fp32(),
          throughput.int8(),
          throughput.int8() / throughput.fp32());
    }
    out.println();
  }

  private String calibration() {
    return options.calibration().name().toLowerCase(Locale.ROOT);
  }

  private static Map<String, Object> agreement(Agreement a) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("images", a.images());
    m.put("top1_agreement", a.rate());
    m.put("max_score_difference", a.maxScoreDifference());
    return m;
  }
}
