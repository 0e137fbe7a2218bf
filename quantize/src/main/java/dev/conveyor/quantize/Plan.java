package dev.conveyor.quantize;

import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.conveyor.onnx.graph.Nodes;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What will be quantized in a graph: the operators, the activations between them, and the {@code
 * Relu}s whose work the quantized range does.
 */
final class Plan {
  /** Operators with a constant weight, quantized per output channel. */
  static final Set<String> WEIGHTED = Set.of("Conv", "Gemm", "MatMul");

  /** Operators whose output keeps their input's scale. */
  static final Set<String> SAME_SCALE =
      Set.of("MaxPool", "Flatten", "Reshape", "Transpose", "Squeeze", "Unsqueeze");

  private static final Set<String> OWN_SCALE =
      Set.of("Add", "Concat", "AveragePool", "GlobalAveragePool");
  private static final Set<String> RELU_FOLDS_INTO = Set.of("Conv", "Gemm", "MatMul", "Add");

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

  private final GraphIndex index;

  private Plan(GraphIndex index) {
    this.index = index;
  }

  static Plan of(GraphIndex index) {
    Plan plan = new Plan(index);
    for (int n = 0; n < index.graph.getNodeCount(); n++) {
      if (plan.quantizable(index.node(n))) {
        plan.nodes.add(n);
      }
    }
    for (int n = 0; n < index.graph.getNodeCount(); n++) {
      NodeProto relu = index.node(n);
      if (relu.getOpType().equals("Relu")) {
        plan.dropIfFolded(n, relu);
      }
    }
    for (int n : plan.nodes) {
      for (String in : plan.activations(index.node(n))) {
        plan.tensors.add(plan.renamed.getOrDefault(in, in));
      }
    }
    return plan;
  }

  /** Whether an operator with a weight is among those quantized. */
  boolean hasWeighted() {
    return nodes.stream().anyMatch(n -> WEIGHTED.contains(index.node(n).getOpType()));
  }

  /** The tensors whose ranges calibration must measure. */
  Set<String> measured() {
    Set<String> measured = new LinkedHashSet<>();
    tensors.forEach(t -> measured.add(measuredAs.getOrDefault(t, t)));
    return measured;
  }

  /** Operators quantized ({@code true}) or left in float ({@code false}), by type. */
  Map<String, Integer> count(boolean quantized) {
    Map<String, Integer> count = new TreeMap<>();
    for (int n = 0; n < index.graph.getNodeCount(); n++) {
      if (quantized ? nodes.contains(n) : !nodes.contains(n) && !droppedRelus.contains(n)) {
        count.merge(index.node(n).getOpType(), 1, Integer::sum);
      }
    }
    return count;
  }

  private void dropIfFolded(int n, NodeProto relu) {
    String in = relu.getInput(0);
    String out = relu.getOutput(0);
    Integer from = index.producer.get(in);
    if (from != null
        && nodes.contains(from)
        && RELU_FOLDS_INTO.contains(index.node(from).getOpType())
        && index.consumers.get(in).size() == 1
        && !index.outputs.contains(in)
        && !index.outputs.contains(out)) {
      droppedRelus.add(n);
      renamed.put(out, in);
      measuredAs.put(in, out);
      tensors.add(in);
    }
  }

  private boolean quantizable(NodeProto node) {
    String op = node.getOpType();
    if ((!node.getDomain().isEmpty() && !node.getDomain().equals("ai.onnx"))
        || node.getInputCount() == 0
        || index.initializers.containsKey(node.getInput(0))) {
      return false; // another domain's operator, or one working on constants
    }
    return switch (op) {
      case "Conv" -> isConstant(node, 1, 4) && (node.getInputCount() < 3 || isConstant(node, 2, 1));
      case "Gemm" ->
          isConstant(node, 1, 2)
              && Nodes.intAttribute(node, "transA", 0) == 0
              && Nodes.floatAttribute(node, "alpha", 1f) == 1f
              && Nodes.floatAttribute(node, "beta", 1f) == 1f
              && (node.getInputCount() < 3 || isConstant(node, 2, 1));
      case "MatMul" -> isConstant(node, 1, 2);
      case "Add" ->
          !index.initializers.containsKey(node.getInput(0))
              && !index.initializers.containsKey(node.getInput(1));
      default -> SAME_SCALE.contains(op) || OWN_SCALE.contains(op);
    };
  }

  /** Whether input {@code i} of the node is an initializer of rank {@code rank}. */
  private boolean isConstant(NodeProto node, int i, int rank) {
    TensorProto t = node.getInputCount() > i ? index.initializers.get(node.getInput(i)) : null;
    return t != null
        && t.getDimsCount() == rank
        && t.getDataType() == TensorProto.DataType.FLOAT.getNumber();
  }

  /** The inputs of a quantized node that are activations, not constants or shapes. */
  private List<String> activations(NodeProto node) {
    String op = node.getOpType();
    if (op.equals("Add") || op.equals("Concat")) {
      return node.getInputList().stream().filter(i -> !index.initializers.containsKey(i)).toList();
    }
    return List.of(node.getInput(0));
  }
}
