package dev.conveyor.quantize;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.onnx.graph.Models;
import dev.conveyor.onnx.graph.Tensors;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Static post-training quantization of an ONNX model to INT8, in the QDQ format: each quantized
 * tensor passes through a {@code QuantizeLinear}/{@code DequantizeLinear} pair, and weights are
 * kept as INT8 with a {@code DequantizeLinear} in front. ONNX Runtime recognises the patterns
 * around each operator and runs them with its integer kernels ({@code QLinearConv}, {@code QGemm},
 * …); any other runtime can still run the graph in float.
 *
 * <ul>
 *   <li>Quantized: {@code Conv} and {@code Gemm} with constant weights (INT8, symmetric, one scale
 *       per output channel, 7 bits with {@link Options#reduceRange}; biases INT32), {@code MatMul}
 *       with a constant right side, {@code Add} of two activations, {@code Concat}, {@code
 *       AveragePool}, {@code GlobalAveragePool}, and {@code MaxPool}, {@code Flatten}, {@code
 *       Reshape}, {@code Transpose}, {@code Squeeze}, {@code Unsqueeze}, which keep their input's
 *       scale. Activations are UINT8 with a zero point.
 *   <li>Folded first: {@code Constant} nodes and {@code Identity} of a constant become plain
 *       initializers; {@code BatchNormalization} after a {@code Conv} goes into the convolution's
 *       weights; a {@code Relu} after a quantized operator is dropped, its range (from zero up)
 *       doing its work.
 *   <li>Left in float: every other operator (Softmax, Sigmoid, Mul, …), the model's outputs, and
 *       any of the above whose weights are not constants.
 * </ul>
 *
 * Ranges come from running the float model over calibration images ({@link Calibration}).
 */
public final class Quantizer {
  /** How a tensor's range is chosen from what calibration saw. */
  public enum Calibration {
    /** The smallest and largest value seen. */
    MINMAX,
    /** Cut off {@code 100 - percentile}% of the values at each end: robust to rare outliers. */
    PERCENTILE
  }

  /**
   * @param calibration how ranges are chosen
   * @param percentile with {@link Calibration#PERCENTILE}, the share of values kept, e.g. 99.999
   * @param reduceRange weights in 7 bits (-63..63) rather than 8, so that integer kernels without
   *     VNNI do not saturate ({@link IntegerKernels})
   */
  public record Options(Calibration calibration, double percentile, boolean reduceRange) {
    /** Percentile 99.999, with weights of 7 bits where this machine's kernels would saturate. */
    public static final Options DEFAULT = new Options(Calibration.PERCENTILE, 99.999);

    public Options {
      if (percentile <= 50 || percentile > 100) {
        throw new IllegalArgumentException("percentile must be above 50 and at most 100");
      }
    }

    /** Weights of 7 bits exactly where this machine's integer kernels would saturate. */
    public Options(Calibration calibration, double percentile) {
      this(calibration, percentile, IntegerKernels.saturate());
    }

    public Options withReduceRange(boolean reduce) {
      return new Options(calibration, percentile, reduce);
    }
  }

  /**
   * Calibration images, preprocessed for the model.
   *
   * @param shape one image's dimensions in the model's layout, e.g. {@code [3, 224, 224]}
   * @param images one array per image
   */
  public record Samples(int[] shape, List<float[]> images) {}

  /**
   * @param model the quantized model
   * @param quantized operators quantized, by type
   * @param leftInFloat operators left in float, by type
   * @param foldedBatchNorms batch normalizations folded into convolutions
   * @param droppedRelus Relu operators whose work the quantized range does
   * @param tensors activations quantized
   */
  public record Result(
      byte[] model,
      Map<String, Integer> quantized,
      Map<String, Integer> leftInFloat,
      int foldedBatchNorms,
      int droppedRelus,
      int tensors) {}

  private static final int MIN_OPSET = 13;

  private Quantizer() {}

  /** Reads an ONNX model, failing with a clear error when the bytes are not one. */
  public static ModelProto parse(byte[] model) {
    try {
      ModelProto m = ModelProto.parseFrom(model);
      if (!m.hasGraph() || m.getGraph().getNodeCount() == 0) {
        throw new ConveyorException(ErrorCode.INVALID_SETTING, "not an ONNX model: no graph");
      }
      return m;
    } catch (InvalidProtocolBufferException e) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "not an ONNX model: " + e.getMessage(), e);
    }
  }

  /**
   * Quantizes {@code model} with ranges calibrated on {@code samples}.
   *
   * @param progress told how many calibration images each run went through
   * @throws ConveyorException {@code INVALID_SETTING} when the bytes are not an ONNX model, its
   *     opset is older than 13, its weights are in an external file, it has nothing to quantize, or
   *     it cannot be run
   */
  public static Result quantize(
      byte[] model, Samples samples, Options options, IntConsumer progress) {
    ModelProto parsed = parse(model);
    requireOpset(parsed);
    GraphProto inlined = Constants.inline(inputsOnly(parsed.getGraph()));
    requireWeightsInside(inlined);
    BatchNorms.Folded folded = BatchNorms.fold(inlined);
    GraphIndex index = new GraphIndex(folded.graph());
    Plan plan = Plan.of(index);
    if (!plan.hasWeighted()) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "nothing to quantize: the model has no Conv, Gemm or MatMul with constant weights");
    }
    Map<String, float[]> ranges =
        Calibrator.ranges(
            parsed.toBuilder().setGraph(folded.graph()).build(),
            plan.measured(),
            samples,
            options,
            progress);
    Weights weights = new Weights(options.reduceRange() ? 63 : 127);
    GraphProto quantized = new QdqWriter(index, plan, weights).write(ranges);
    ModelProto out =
        parsed.toBuilder()
            .setGraph(quantized)
            .setProducerName("conveyor-quantize")
            .addMetadataProps(Models.metadata("quantization", description(options, samples)))
            .build();
    return new Result(
        out.toByteArray(),
        plan.count(true),
        plan.count(false),
        folded.count(),
        plan.droppedRelus.size(),
        plan.tensors.size());
  }

  private static void requireOpset(ModelProto model) {
    long opset =
        model.getOpsetImportList().stream()
            .filter(o -> o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx"))
            .mapToLong(OperatorSetIdProto::getVersion)
            .max()
            .orElse(0);
    if (opset < MIN_OPSET) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "the model uses ONNX opset "
              + opset
              + "; quantize needs opset "
              + MIN_OPSET
              + " or newer (per-channel scales): export it again with a newer opset");
    }
  }

  /** The graph without the initializers that older exports list as inputs too. */
  private static GraphProto inputsOnly(GraphProto graph) {
    Set<String> constants = new HashSet<>();
    graph.getInitializerList().forEach(t -> constants.add(t.getName()));
    GraphProto.Builder inputsOnly = graph.toBuilder().clearInput();
    graph.getInputList().stream()
        .filter(i -> !constants.contains(i.getName()))
        .forEach(inputsOnly::addInput);
    return inputsOnly.build();
  }

  private static void requireWeightsInside(GraphProto graph) {
    for (TensorProto t : graph.getInitializerList()) {
      if (Tensors.isExternal(t)) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "the model keeps tensor "
                + t.getName()
                + " in an external file; quantize takes models with their weights inside");
      }
    }
  }

  /** What the model's metadata says of its quantization. */
  private static String description(Options options, Samples samples) {
    return "int8 qdq, weights per channel"
        + (options.reduceRange() ? " in 7 bits (reduced range), " : ", ")
        + options.calibration().name().toLowerCase(Locale.ROOT)
        + (options.calibration() == Calibration.PERCENTILE ? " " + options.percentile() : "")
        + " calibration on "
        + samples.images().size()
        + " images";
  }
}
