package dev.conveyor.quantize;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class QuantizeReportTest {
  private final Quantizer.Result result =
      new Quantizer.Result(new byte[0], Map.of("Conv", 4), Map.of("Softmax", 1), 2, 3, 9);

  @Test
  void printsTheAgreementTableSizesAndThroughput() {
    QuantizeReport report =
        new QuantizeReport(
            Path.of("m.onnx"),
            Path.of("m-int8.onnx"),
            result,
            Quantizer.Options.DEFAULT.withReduceRange(true),
            new Agreement(200, 198, 0.0412),
            new Agreement(0, 0, 0),
            4_000_000,
            1_000_000,
            new QuantizeReport.Throughput(16, 100, 250));
    StringWriter text = new StringWriter();
    report.print(new PrintWriter(text));
    assertThat(text.toString())
        .contains("## conveyor quantize: m.onnx → m-int8.onnx")
        .contains("calibration: percentile on 200 images; weights in 7 bits; quantized {Conv=4}")
        .contains("| calibration | 200 | 0.9900 | 0.0412 |")
        .contains("| holdout | 0 | (no images: pass --holdout DIR) | |")
        .contains("size: 4.0 MB → 1.0 MB")
        .contains("raw model, batch 16: fp32 100.0 images/s, int8 250.0 images/s (2.50×)");
  }

  @Test
  void theJsonHasEveryFigureAndLeavesOutWhatWasNotMeasured() {
    Map<String, Object> json =
        new QuantizeReport(
                Path.of("m.onnx"),
                Path.of("m-int8.onnx"),
                result,
                new Quantizer.Options(Quantizer.Calibration.MINMAX, 99.99, false),
                new Agreement(10, 9, 0.1),
                new Agreement(10, 10, 0.05),
                400,
                100,
                null)
            .toJson();
    assertThat(json)
        .containsEntry("calibration", "minmax")
        .containsEntry("reduce_range", false)
        .containsEntry("batch_norms_folded", 2)
        .containsEntry("relus_done_by_range", 3)
        .containsEntry("activations_quantized", 9)
        .containsEntry("size_bytes", Map.of("fp32", 400L, "int8", 100L))
        .doesNotContainKeys("percentile", "raw_throughput");
    assertThat(json.get("agreement_calibration"))
        .isEqualTo(Map.of("images", 10, "top1_agreement", 0.9, "max_score_difference", 0.1));
  }
}
