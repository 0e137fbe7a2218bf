package dev.conveyor.quantize;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.conveyor.onnx.graph.Nodes;
import dev.conveyor.onnx.graph.Tensors;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Folds each {@code BatchNormalization} that follows a {@code Conv} into the convolution: {@code w'
 * = w·γ/√(σ²+ε)} per output channel and {@code b' = (b−μ)·γ/√(σ²+ε) + β}. The quantizer then sees
 * one operator with one weight, as ONNX Runtime would after its own fusion, and quantizes the
 * folded weights.
 */
final class BatchNorms {
  private BatchNorms() {}

  record Folded(GraphProto graph, int count) {}

  static Folded fold(GraphProto graph) {
    Map<String, TensorProto> init = new HashMap<>();
    graph.getInitializerList().forEach(t -> init.put(t.getName(), t));
    Map<String, Integer> uses = new HashMap<>();
    for (NodeProto n : graph.getNodeList()) {
      n.getInputList().forEach(i -> uses.merge(i, 1, Integer::sum));
    }
    Set<String> outputs = new HashSet<>();
    graph.getOutputList().forEach(o -> outputs.add(o.getName()));
    Map<String, Integer> producer = new HashMap<>();
    for (int n = 0; n < graph.getNodeCount(); n++) {
      for (String out : graph.getNode(n).getOutputList()) {
        producer.put(out, n);
      }
    }
    Map<Integer, NodeProto> replacedConvs = new HashMap<>();
    Set<Integer> removed = new HashSet<>();
    List<TensorProto> added = new ArrayList<>();
    for (int n = 0; n < graph.getNodeCount(); n++) {
      NodeProto bn = graph.getNode(n);
      if (!bn.getOpType().equals("BatchNormalization") || bn.getOutputCount() != 1) {
        continue;
      }
      Integer from = producer.get(bn.getInput(0));
      if (from == null
          || !graph.getNode(from).getOpType().equals("Conv")
          || uses.get(bn.getInput(0)) != 1
          || outputs.contains(bn.getInput(0))
          || replacedConvs.containsKey(from)) {
        continue;
      }
      NodeProto conv = graph.getNode(from);
      TensorProto w = init.get(conv.getInput(1));
      TensorProto b = conv.getInputCount() > 2 ? init.get(conv.getInput(2)) : null;
      List<TensorProto> p = new ArrayList<>();
      for (int i = 1; i <= 4; i++) {
        p.add(init.get(bn.getInput(i)));
      }
      if (w == null || (conv.getInputCount() > 2 && b == null) || p.contains(null)) {
        continue;
      }
      float[] gamma = Tensors.floats(p.get(0));
      float[] beta = Tensors.floats(p.get(1));
      float[] mean = Tensors.floats(p.get(2));
      float[] var = Tensors.floats(p.get(3));
      float epsilon = Nodes.floatAttribute(bn, "epsilon", 1e-5f);
      float[] weights = Tensors.floats(w);
      int channels = gamma.length;
      if (Tensors.dims(w)[0] != channels) {
        continue;
      }
      float[] bias = b != null ? Tensors.floats(b) : new float[channels];
      int per = weights.length / channels;
      float[] fw = new float[weights.length];
      float[] fb = new float[channels];
      for (int c = 0; c < channels; c++) {
        double k = gamma[c] / Math.sqrt(var[c] + epsilon);
        for (int i = 0; i < per; i++) {
          fw[c * per + i] = (float) (weights[c * per + i] * k);
        }
        fb[c] = (float) ((bias[c] - mean[c]) * k + beta[c]);
      }
      String name = bn.getOutput(0);
      added.add(Tensors.floats(name + "_folded_weight", Tensors.dims(w), fw));
      added.add(Tensors.floats(name + "_folded_bias", new long[] {channels}, fb));
      NodeProto.Builder folded = conv.toBuilder().setOutput(0, name);
      folded.setInput(1, name + "_folded_weight");
      if (folded.getInputCount() > 2) {
        folded.setInput(2, name + "_folded_bias");
      } else {
        folded.addInput(name + "_folded_bias");
      }
      replacedConvs.put(from, folded.build());
      removed.add(n);
    }
    if (removed.isEmpty()) {
      return new Folded(graph, 0);
    }
    GraphProto.Builder g = graph.toBuilder().clearNode().clearValueInfo();
    for (int n = 0; n < graph.getNodeCount(); n++) {
      if (!removed.contains(n)) {
        g.addNode(replacedConvs.getOrDefault(n, graph.getNode(n)));
      }
    }
    g.addAllInitializer(added);
    Set<String> stillUsed = new HashSet<>();
    g.getNodeList().forEach(n -> stillUsed.addAll(n.getInputList()));
    List<TensorProto> kept =
        g.getInitializerList().stream().filter(t -> stillUsed.contains(t.getName())).toList();
    g.clearInitializer().addAllInitializer(kept);
    return new Folded(g.build(), removed.size());
  }
}
