package dev.conveyor.quantize;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A graph with its tensors looked up: the initializers by name, the node producing each tensor and
 * the nodes reading it, and the graph's inputs and outputs.
 */
final class GraphIndex {
  final GraphProto graph;
  final Map<String, TensorProto> initializers = new HashMap<>();
  final Map<String, Integer> producer = new HashMap<>();
  final Map<String, List<Integer>> consumers = new HashMap<>();
  final Set<String> outputs = new HashSet<>();
  final Set<String> inputs = new HashSet<>();

  GraphIndex(GraphProto graph) {
    this.graph = graph;
    graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
    graph.getOutputList().forEach(o -> outputs.add(o.getName()));
    graph.getInputList().forEach(i -> inputs.add(i.getName()));
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

  NodeProto node(int n) {
    return graph.getNode(n);
  }
}
