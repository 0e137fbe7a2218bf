package dev.conveyor.onnx.quantize;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
 *       per output channel; biases INT32), {@code MatMul} with a constant right side, {@code Add}
 *       of two activations, {@code Concat}, {@code AveragePool}, {@code GlobalAveragePool}, and
 *       {@code MaxPool}, {@code Flatten}, {@code Reshape}, {@code Transpose}, {@code Squeeze},
 *       {@code Unsqueeze}, which keep their input's scale. Activations are UINT8 with a zero point.
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
   */
  public record Options(Calibration calibration, double percentile) {
    public static final Options DEFAULT = new Options(Calibration.PERCENTILE, 99.999);

    public Options {
      if (percentile <= 50 || percentile > 100) {
        throw new IllegalArgumentException("percentile must be above 50 and at most 100");
      }
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
  private static final Set<String> WEIGHTED = Set.of("Conv", "Gemm", "MatMul");
  private static final Set<String> SAME_SCALE =
      Set.of("MaxPool", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze");
  private static final Set<String> OWN_SCALE =
      Set.of("Add", "Concat", "AveragePool", "GlobalAveragePool");
  private static final Set<String> RELU_FOLDS_INTO = Set.of("Conv", "Gemm", "MatMul", "Add");

  private final GraphProto graph;
  private final Map<String, TensorProto> initializers = new HashMap<>();
  private final Map<String, Integer> producer = new HashMap<>();
  private final Map<String, List<Integer>> consumers = new HashMap<>();
  private final Set<String> graphOutputs = new HashSet<>();
  private final Set<String> graphInputs = new HashSet<>();

  private Quantizer(GraphProto graph) {
    this.graph = graph;
    graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
    graph.getOutputList().forEach(o -> graphOutputs.add(o.getName()));
    graph.getInputList().forEach(i -> graphInputs.add(i.getName()));
    for (int n = 0; n < graph.getNodeCount(); n++) {
      NodeProto node = graph.getNode(n);
      for (String out : node.getOutputList()) {
        producer.put(out, n);
      }
      for (String in : node.getInputList()) {
        consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
      }
    }
  }

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
   *     opset is older than 13, it has nothing to quantize, or it cannot be run
   */
  public static Result quantize(
      byte[] model, Samples samples, Options options, IntConsumer progress) {
    ModelProto parsed = parse(model);
    long opset =
        parsed.getOpsetImportList().stream()
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
    // initializers listed as inputs too (older exports) are constants here: only real inputs stay
    Set<String> constants = new HashSet<>();
    parsed.getGraph().getInitializerList().forEach(t -> constants.add(t.getName()));
    GraphProto.Builder inputsOnly = parsed.getGraph().toBuilder().clearInput();
    parsed.getGraph().getInputList().stream()
        .filter(i -> !constants.contains(i.getName()))
        .forEach(inputsOnly::addInput);
    BatchNorms.Folded folded = BatchNorms.fold(Constants.inline(inputsOnly.build()));
    Quantizer q = new Quantizer(folded.graph());
    Plan plan = q.plan();
    if (plan.nodes.stream().noneMatch(n -> WEIGHTED.contains(q.graph.getNode(n).getOpType()))) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "nothing to quantize: the model has no Conv, Gemm or MatMul with constant weights");
    }
    Set<String> measured = new LinkedHashSet<>();
    plan.tensors.forEach(t -> measured.add(plan.measuredAs.getOrDefault(t, t)));
    Map<String, float[]> ranges =
        Calibrator.ranges(
            parsed.toBuilder().setGraph(folded.graph()).build(),
            measured,
            samples,
            options,
            progress);
    GraphProto quantized = q.emit(plan, ranges);
    ModelProto out =
        parsed.toBuilder()
            .setGraph(quantized)
            .setProducerName("conveyor-quantize")
            .addMetadataProps(
                StringStringEntryProto.newBuilder()
                    .setKey("quantization")
                    .setValue(
                        "int8 qdq, weights per channel, "
                            + options.calibration().name().toLowerCase(java.util.Locale.ROOT)
                            + (options.calibration() == Calibration.PERCENTILE
                                ? " " + options.percentile()
                                : "")
                            + " calibration on "
                            + samples.images().size()
                            + " images"))
            .build();
    Map<String, Integer> done = new TreeMap<>();
    Map<String, Integer> left = new TreeMap<>();
    for (int n = 0; n < q.graph.getNodeCount(); n++) {
      String op = q.graph.getNode(n).getOpType();
      if (plan.nodes.contains(n)) {
        done.merge(op, 1, Integer::sum);
      } else if (!plan.droppedRelus.contains(n)) {
        left.merge(op, 1, Integer::sum);
      }
    }
    return new Result(
        out.toByteArray(),
        done,
        left,
        folded.count(),
        plan.droppedRelus.size(),
        plan.tensors.size());
  }

  /** What will be quantized. */
  private static final class Plan {
    /** Node indexes to quantize. */
    final Set<Integer> nodes = new LinkedHashSet<>();

    /** Relu nodes dropped; their output is read from their input instead. */
    final Set<Integer> droppedRelus = new HashSet<>();

    /** A dropped Relu's output name, to its input's name. */
    final Map<String, String> renamed = new HashMap<>();

    /** Activations to quantize, after renaming. */
    final Set<String> tensors = new LinkedHashSet<>();

    /** Tensors whose range is that of another (a dropped Relu's output). */
    final Map<String, String> measuredAs = new HashMap<>();
  }

  private Plan plan() {
    Plan plan = new Plan();
    for (int n = 0; n < graph.getNodeCount(); n++) {
      if (quantizable(graph.getNode(n))) {
        plan.nodes.add(n);
      }
    }
    for (int n = 0; n < graph.getNodeCount(); n++) {
      NodeProto relu = graph.getNode(n);
      if (!relu.getOpType().equals("Relu")) {
        continue;
      }
      String in = relu.getInput(0);
      String out = relu.getOutput(0);
      Integer from = producer.get(in);
      if (from != null
          && plan.nodes.contains(from)
          && RELU_FOLDS_INTO.contains(graph.getNode(from).getOpType())
          && consumers.get(in).size() == 1
          && !graphOutputs.contains(in)
          && !graphOutputs.contains(out)) {
        plan.droppedRelus.add(n);
        plan.renamed.put(out, in);
        plan.measuredAs.put(in, out);
        plan.tensors.add(in);
      }
    }
    for (int n : plan.nodes) {
      for (String in : activations(graph.getNode(n))) {
        plan.tensors.add(plan.renamed.getOrDefault(in, in));
      }
    }
    return plan;
  }

  private boolean quantizable(NodeProto node) {
    String op = node.getOpType();
    if ((!node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx"))
        || node.getInputCount() == 0
        || initializers.containsKey(node.getInput(0))) {
      return false; // another domain's operator, or one working on constants
    }
    return switch (op) {
      case "Conv" -> isConstant(node, 1, 4) && (node.getInputCount() < 3 || isConstant(node, 2, 1));
      case "Gemm" ->
          isConstant(node, 1, 2)
              && Tensors.intAttribute(node, "transA", 0) == 0
              && Tensors.floatAttribute(node, "alpha", 1f) == 1f
              && Tensors.floatAttribute(node, "beta", 1f) == 1f
              && (node.getInputCount() < 3 || isConstant(node, 2, 1));
      case "MatMul" -> isConstant(node, 1, 2);
      case "Add" ->
          !initializers.containsKey(node.getInput(0))
              && !initializers.containsKey(node.getInput(1));
      default -> SAME_SCALE.contains(op) || OWN_SCALE.contains(op);
    };
  }

  /** Whether input {@code i} of the node is an initializer of rank {@code rank}. */
  private boolean isConstant(NodeProto node, int i, int rank) {
    TensorProto t = node.getInputCount() > i ? initializers.get(node.getInput(i)) : null;
    return t != null
        && t.getDimsCount() == rank
        && t.getDataType() == TensorProto.DataType.FLOAT.getNumber();
  }

  /** The inputs of a quantized node that are activations, not constants or shapes. */
  private List<String> activations(NodeProto node) {
    String op = node.getOpType();
    if (op.equals("Add") || op.equals("Concat")) {
      return node.getInputList().stream().filter(i -> !initializers.containsKey(i)).toList();
    }
    return List.of(node.getInput(0));
  }

  /** Scale and zero point of a UINT8 activation. */
  private record Scale(float scale, int zeroPoint) {
    static Scale of(float[] range) {
      float lo = Math.min(0, range[0]);
      float hi = Math.max(0, range[1]);
      if (!(hi > lo) || !Float.isFinite(lo) || !Float.isFinite(hi)) {
        return new Scale(1f, 0);
      }
      float scale = (hi - lo) / 255f;
      int zero = Math.round(-lo / scale);
      return new Scale(scale, Math.max(0, Math.min(255, zero)));
    }
  }

  private GraphProto emit(Plan plan, Map<String, float[]> ranges) {
    Map<String, Scale> scales = new LinkedHashMap<>();
    for (String t : plan.tensors) {
      Integer from = producer.get(t);
      NodeProto p = from == null ? null : graph.getNode(from);
      if (p != null && plan.nodes.contains(from) && SAME_SCALE.contains(p.getOpType())) {
        continue; // set from its input below, in graph order
      }
      scales.put(t, Scale.of(ranges.get(plan.measuredAs.getOrDefault(t, t))));
    }
    for (int n : plan.nodes) {
      NodeProto node = graph.getNode(n);
      String out = node.getOutput(0);
      if (SAME_SCALE.contains(node.getOpType()) && plan.tensors.contains(out)) {
        String in = plan.renamed.getOrDefault(node.getInput(0), node.getInput(0));
        scales.put(out, scales.get(in));
      }
    }
    GraphProto.Builder g = graph.toBuilder().clearNode().clearInitializer().clearValueInfo();
    List<NodeProto> nodes = new ArrayList<>();
    for (String input : graphInputs) {
      if (scales.containsKey(input)) {
        quantizeActivation(input, scales.get(input), g, nodes);
      }
    }
    for (int n = 0; n < graph.getNodeCount(); n++) {
      if (plan.droppedRelus.contains(n)) {
        continue;
      }
      NodeProto original = graph.getNode(n);
      NodeProto.Builder node = original.toBuilder();
      for (int i = 0; i < node.getInputCount(); i++) {
        String in = plan.renamed.getOrDefault(node.getInput(i), node.getInput(i));
        node.setInput(i, scales.containsKey(in) ? in + "_dequantized" : in);
      }
      if (plan.nodes.contains(n) && WEIGHTED.contains(node.getOpType())) {
        String activation = plan.renamed.getOrDefault(original.getInput(0), original.getInput(0));
        Weights.quantize(node, initializers, scales.get(activation).scale(), g, nodes);
      }
      nodes.add(node.build());
      for (String out : node.getOutputList()) {
        if (scales.containsKey(out)) {
          quantizeActivation(out, scales.get(out), g, nodes);
        }
      }
    }
    // the float weights now quantized are read by no node: they are left out
    Set<String> read = new HashSet<>();
    nodes.forEach(n -> read.addAll(n.getInputList()));
    for (TensorProto t : graph.getInitializerList()) {
      if (read.contains(t.getName())) {
        g.addInitializer(t);
      }
    }
    return g.addAllNode(nodes).build();
  }

  private static void quantizeActivation(
      String tensor, Scale s, GraphProto.Builder g, List<NodeProto> nodes) {
    String scale = tensor + "_scale";
    String zero = tensor + "_zero_point";
    g.addInitializer(Tensors.floats(scale, new long[0], new float[] {s.scale()}));
    g.addInitializer(Tensors.uint8s(zero, new long[0], new byte[] {(byte) s.zeroPoint()}));
    nodes.add(
        Tensors.node(
            "QuantizeLinear",
            tensor + "_QuantizeLinear",
            List.of(tensor, scale, zero),
            tensor + "_quantized"));
    nodes.add(
        Tensors.node(
            "DequantizeLinear",
            tensor + "_DequantizeLinear",
            List.of(tensor + "_quantized", scale, zero),
            tensor + "_dequantized"));
  }
}
