package dev.conveyor.train;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.conveyor.core.Json;
import dev.conveyor.onnx.graph.Models;
import dev.conveyor.onnx.graph.Nodes;
import dev.conveyor.onnx.graph.Tensors;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes the trained {@link Cnn} as an ONNX model for inference: input {@code image} {@code
 * [N,1,28,28]}, output {@code logits} {@code [N,10]}, batch normalization with its running
 * statistics, dropout left out, and the class names in the metadata under {@code labels}.
 */
public final class OnnxExport {
  static final String INPUT = "image";
  static final String OUTPUT = "logits";

  private OnnxExport() {}

  public static void write(
      SequentialBlock block, int rows, int cols, List<String> classes, Path file) {
    List<Block> children = block.getChildren().values();
    if (children.size() != Cnn.LAYERS.size()) {
      throw new IllegalArgumentException("the block does not have the layers of Cnn");
    }
    GraphProto.Builder graph =
        GraphProto.newBuilder()
            .setName("fashion-mnist-cnn")
            .addInput(Models.floatBatch(INPUT, 1, rows, cols));
    String current = INPUT;
    for (int i = 0; i < children.size(); i++) {
      current = add(graph, Cnn.LAYERS.get(i), children.get(i), current, "l" + i);
    }
    graph.addNode(node("Identity", List.of(current), OUTPUT));
    graph.addOutput(Models.floatBatch(OUTPUT, classes.size()));
    ModelProto model =
        Models.model(13, graph)
            .setProducerName("conveyor-train")
            .setDocString("Conveyor's Fashion-MNIST CNN; input: grey pixels / 255, NCHW")
            .addMetadataProps(Models.metadata("labels", Json.write(classes)))
            .build();
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      Files.write(file, model.toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** Adds the nodes of one layer reading {@code in}; returns the name of its output. */
  private static String add(
      GraphProto.Builder g, Layer layer, Block block, String in, String name) {
    if (layer instanceof Layer.Conv c) {
      g.addInitializer(tensor(name + ".weight", param(block, "weight")));
      g.addInitializer(tensor(name + ".bias", param(block, "bias")));
      g.addNode(
          node(
              "Conv",
              List.of(in, name + ".weight", name + ".bias"),
              name,
              Nodes.ints("kernel_shape", c.kernel(), c.kernel()),
              Nodes.ints("pads", c.padding(), c.padding(), c.padding(), c.padding()),
              Nodes.ints("strides", 1, 1)));
    } else if (layer instanceof Layer.BatchNorm b) {
      for (String p : List.of("gamma", "beta", "runningMean", "runningVar")) {
        g.addInitializer(tensor(name + "." + p, param(block, p)));
      }
      g.addNode(
          node(
              "BatchNormalization",
              List.of(
                  in, name + ".gamma", name + ".beta", name + ".runningMean", name + ".runningVar"),
              name,
              Nodes.attribute("epsilon", b.epsilon())));
    } else if (layer instanceof Layer.Relu) {
      g.addNode(node("Relu", List.of(in), name));
    } else if (layer instanceof Layer.MaxPool p) {
      g.addNode(
          node(
              "MaxPool",
              List.of(in),
              name,
              Nodes.ints("kernel_shape", p.size(), p.size()),
              Nodes.ints("strides", p.size(), p.size())));
    } else if (layer instanceof Layer.Flatten) {
      g.addNode(node("Flatten", List.of(in), name, Nodes.attribute("axis", 1L)));
    } else if (layer instanceof Layer.Dropout) {
      return in; // inference: identity
    } else if (layer instanceof Layer.Dense) {
      g.addInitializer(tensor(name + ".weight", param(block, "weight")));
      g.addInitializer(tensor(name + ".bias", param(block, "bias")));
      g.addNode(
          node(
              "Gemm",
              List.of(in, name + ".weight", name + ".bias"),
              name,
              Nodes.attribute("transB", 1L)));
    } else {
      throw new IllegalArgumentException("no ONNX export for " + layer);
    }
    return name;
  }

  private static NDArray param(Block block, String name) {
    var parameter = block.getParameters().get(name);
    if (parameter == null) {
      throw new IllegalStateException("the block " + block + " has no parameter " + name);
    }
    return parameter.getArray();
  }

  private static TensorProto tensor(String name, NDArray array) {
    return Tensors.floats(name, array.getShape().getShape(), array.toFloatArray());
  }

  /** A node named after its one output. */
  private static NodeProto node(
      String op, List<String> inputs, String output, AttributeProto... attributes) {
    return Nodes.node(op, output, inputs, output, attributes);
  }
}
