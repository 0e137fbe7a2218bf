package dev.conveyor.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Makes constant weights visible as initializers: a {@code Constant} node becomes an initializer,
 * and an {@code Identity} of an initializer (as exporters write shared or renamed parameters) is
 * read through, so that the operators after it see their weights directly.
 */
final class Constants {
  private Constants() {}

  static GraphProto inline(GraphProto graph) {
    Set<String> constants = new HashSet<>();
    graph.getInitializerList().forEach(t -> constants.add(t.getName()));
    Set<String> outputs = new HashSet<>();
    graph.getOutputList().forEach(o -> outputs.add(o.getName()));
    GraphProto.Builder g = graph.toBuilder().clearNode();
    Map<String, String> readThrough = new HashMap<>();
    for (NodeProto node : graph.getNodeList()) {
      String out = node.getOutputCount() == 1 ? node.getOutput(0) : null;
      if (out != null && !outputs.contains(out) && node.getOpType().equals("Constant")) {
        AttributeProto value =
            node.getAttributeList().stream()
                .filter(a -> a.getName().equals("value") && a.hasT())
                .findFirst()
                .orElse(null);
        if (value != null) {
          g.addInitializer(value.getT().toBuilder().setName(out));
          constants.add(out);
          continue;
        }
      }
      if (out != null
          && !outputs.contains(out)
          && node.getOpType().equals("Identity")
          && constants.contains(node.getInput(0))) {
        readThrough.put(out, node.getInput(0));
        continue;
      }
      NodeProto.Builder n = node.toBuilder();
      for (int i = 0; i < n.getInputCount(); i++) {
        n.setInput(i, readThrough.getOrDefault(n.getInput(i), n.getInput(i)));
      }
      g.addNode(n);
    }
    return g.build();
  }
}
