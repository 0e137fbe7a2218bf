package dev.conveyor.quantize;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.conveyor.onnx.graph.Nodes;
import dev.conveyor.onnx.graph.Tensors;
import java.util.List;
import java.util.Map;

/**
 * Weights to INT8, symmetric (zero point 0, values -127..127, or -63..63 in a reduced range), one
 * scale per output channel; biases to INT32 at the scale of input × weight, as integer kernels
 * accumulate them.
 */
final class Weights {
  private final int max;

  /**
   * @param max the largest magnitude of a quantized weight: 127, or 63 for a reduced range
   */
  Weights(int max) {
    this.max = max;
  }

  /**
   * Replaces the weight (and bias) inputs of {@code node} by {@code DequantizeLinear} nodes over
   * their INT8 (INT32) versions, added to {@code g} and {@code nodes}.
   *
   * @param inputScale the scale of the node's quantized input
   */
  void quantize(
      NodeProto.Builder node,
      Map<String, TensorProto> initializers,
      float inputScale,
      GraphProto.Builder g,
      List<NodeProto> nodes) {
    TensorProto w = initializers.get(node.getInput(1));
    long[] dims = Tensors.dims(w);
    // the output channel: Conv [M, C, kh, kw]; Gemm B [N, K] when transposed, else [K, N]
    int axis =
        switch (node.getOpType()) {
          case "Conv" -> 0;
          case "Gemm" -> Nodes.intAttribute(node.build(), "transB", 0) == 1 ? 0 : 1;
          default -> 1;
        };
    float[] values = Tensors.floats(w);
    int channels = (int) dims[axis];
    int inner = 1;
    for (int d = axis + 1; d < dims.length; d++) {
      inner *= (int) dims[d];
    }
    float[] scale = new float[channels];
    for (int i = 0; i < values.length; i++) {
      int c = (i / inner) % channels;
      scale[c] = Math.max(scale[c], Math.abs(values[i]));
    }
    for (int c = 0; c < channels; c++) {
      scale[c] = scale[c] > 0 ? scale[c] / max : 1f;
    }
    byte[] q = new byte[values.length];
    for (int i = 0; i < values.length; i++) {
      int c = (i / inner) % channels;
      q[i] = (byte) Math.max(-max, Math.min(max, Math.round(values[i] / scale[c])));
    }
    // named after the node's output, which is unique: weights may be shared between nodes
    String name = node.getOutput(0) + "_weight";
    g.addInitializer(Tensors.int8s(name + "_int8", dims, q));
    g.addInitializer(Tensors.floats(name + "_scale", new long[] {channels}, scale));
    g.addInitializer(
        Tensors.int8s(name + "_zero_point", new long[] {channels}, new byte[channels]));
    nodes.add(dequantize(name, name + "_int8", axis));
    node.setInput(1, name + "_dequantized");
    if (node.getInputCount() > 2 && !node.getInput(2).isEmpty()) {
      TensorProto b = initializers.get(node.getInput(2));
      float[] bias = Tensors.floats(b);
      if (bias.length == channels) {
        int[] qb = new int[channels];
        float[] bScale = new float[channels];
        for (int c = 0; c < channels; c++) {
          bScale[c] = inputScale * scale[c];
          double v = Math.rint(bias[c] / (double) bScale[c]);
          qb[c] = (int) Math.max(Integer.MIN_VALUE + 1, Math.min(Integer.MAX_VALUE, v));
        }
        String bn = node.getOutput(0) + "_bias";
        g.addInitializer(Tensors.int32s(bn + "_int32", new long[] {channels}, qb));
        g.addInitializer(Tensors.floats(bn + "_scale", new long[] {channels}, bScale));
        g.addInitializer(
            Tensors.int32s(bn + "_zero_point", new long[] {channels}, new int[channels]));
        nodes.add(dequantize(bn, bn + "_int32", 0));
        node.setInput(2, bn + "_dequantized");
      }
    }
  }

  private static NodeProto dequantize(String name, String quantized, int axis) {
    return Nodes.node(
        "DequantizeLinear",
        name + "_DequantizeLinear",
        List.of(quantized, name + "_scale", name + "_zero_point"),
        name + "_dequantized",
        Nodes.attribute("axis", (long) axis));
  }
}
