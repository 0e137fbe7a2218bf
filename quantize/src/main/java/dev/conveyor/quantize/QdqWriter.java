package dev.conveyor.quantize;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.conveyor.onnx.graph.Nodes;
import dev.conveyor.onnx.graph.Tensors;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes the planned graph in the QDQ format: each quantized activation followed by a {@code
 * QuantizeLinear}/{@code DequantizeLinear} pair at the scale its calibrated range gives, and each
 * quantized operator's weights replaced by INT8 ones ({@link Weights}).
 */
final class QdqWriter {
  private final GraphIndex index;
  private final Plan plan;
  private final Weights weights;

  QdqWriter(GraphIndex index, Plan plan, Weights weights) {
    this.index = index;
    this.plan = plan;
    this.weights = weights;
  }

  /** Scale and zero point of a UINT8 activation. */
  record Scale(float scale, int zeroPoint) {
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

  /** The quantized graph, with the activations' ranges from calibration. */
  GraphProto write(Map<String, float[]> ranges) {
    Map<String, Scale> scales = scales(ranges);
    GraphProto graph = index.graph;
    GraphProto.Builder g = graph.toBuilder().clearNode().clearInitializer().clearValueInfo();
    List<NodeProto> nodes = new ArrayList<>();
    for (String input : index.inputs) {
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
      if (plan.nodes.contains(n) && Plan.WEIGHTED.contains(node.getOpType())) {
        String activation = plan.renamed.getOrDefault(original.getInput(0), original.getInput(0));
        weights.quantize(node, index.initializers, scales.get(activation).scale(), g, nodes);
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

  /** Each activation's scale: its own range's, or its input's for an operator that keeps it. */
  private Map<String, Scale> scales(Map<String, float[]> ranges) {
    Map<String, Scale> scales = new LinkedHashMap<>();
    for (String t : plan.tensors) {
      Integer from = index.producer.get(t);
      NodeProto p = from == null ? null : index.node(from);
      if (p != null && plan.nodes.contains(from) && Plan.SAME_SCALE.contains(p.getOpType())) {
        continue; // set from its input below, in graph order
      }
      scales.put(t, Scale.of(ranges.get(plan.measuredAs.getOrDefault(t, t))));
    }
    for (int n : plan.nodes) {
      NodeProto node = index.node(n);
      String out = node.getOutput(0);
      if (Plan.SAME_SCALE.contains(node.getOpType()) && plan.tensors.contains(out)) {
        String in = plan.renamed.getOrDefault(node.getInput(0), node.getInput(0));
        scales.put(out, scales.get(in));
      }
    }
    return scales;
  }

  private static void quantizeActivation(
      String tensor, Scale s, GraphProto.Builder g, List<NodeProto> nodes) {
    String scale = tensor + "_scale";
    String zero = tensor + "_zero_point";
    g.addInitializer(Tensors.floats(scale, new long[0], new float[] {s.scale()}));
    g.addInitializer(Tensors.uint8s(zero, new long[0], new byte[] {(byte) s.zeroPoint()}));
    nodes.add(
        Nodes.node(
            "QuantizeLinear",
            tensor + "_QuantizeLinear",
            List.of(tensor, scale, zero),
            tensor + "_quantized"));
    nodes.add(
        Nodes.node(
            "DequantizeLinear",
            tensor + "_DequantizeLinear",
            List.of(tensor + "_quantized", scale, zero),
            tensor + "_dequantized"));
  }
}
