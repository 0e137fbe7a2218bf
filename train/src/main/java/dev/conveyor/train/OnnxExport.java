package dev.conveyor.train;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.nn.SequentialBlock;
import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import dev.conveyor.core.Json;
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
            .addInput(valueInfo(INPUT, 1, rows, cols));
    String current = INPUT;
    for (int i = 0; i < children.size(); i++) {
      current = add(graph, Cnn.LAYERS.get(i), children.get(i), current, "l" + i);
    }
    graph.addNode(node("Identity", List.of(current), OUTPUT));
    graph.addOutput(valueInfo(OUTPUT, classes.size()));
    ModelProto model =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("conveyor-train")
            .setDocString("Conveyor's Fashion-MNIST CNN; input: grey pixels / 255, NCHW")
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
            .addMetadataProps(
                StringStringEntryProto.newBuilder().setKey("labels").setValue(Json.write(classes)))
            .setGraph(graph)
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
          node("Conv", List.of(in, name + ".weight", name + ".bias"), name)
              .addAttribute(ints("kernel_shape", c.kernel(), c.kernel()))
              .addAttribute(ints("pads", c.padding(), c.padding(), c.padding(), c.padding()))
              .addAttribute(ints("strides", 1, 1)));
    } else if (layer instanceof Layer.BatchNorm b) {
      for (String p : List.of("gamma", "beta", "runningMean", "runningVar")) {
        g.addInitializer(tensor(name + "." + p, param(block, p)));
      }
      g.addNode(
          node(
                  "BatchNormalization",
                  List.of(
                      in,
                      name + ".gamma",
                      name + ".beta",
                      name + ".runningMean",
                      name + ".runningVar"),
                  name)
              .addAttribute(
                  AttributeProto.newBuilder()
                      .setName("epsilon")
                      .setType(AttributeProto.AttributeType.FLOAT)
                      .setF(b.epsilon())));
    } else if (layer instanceof Layer.Relu) {
      g.addNode(node("Relu", List.of(in), name));
    } else if (layer instanceof Layer.MaxPool p) {
      g.addNode(
          node("MaxPool", List.of(in), name)
              .addAttribute(ints("kernel_shape", p.size(), p.size()))
              .addAttribute(ints("strides", p.size(), p.size())));
    } else if (layer instanceof Layer.Flatten) {
      g.addNode(
          node("Flatten", List.of(in), name)
              .addAttribute(
                  AttributeProto.newBuilder()
                      .setName("axis")
                      .setType(AttributeProto.AttributeType.INT)
                      .setI(1)));
    } else if (layer instanceof Layer.Dropout) {
      return in; // inference: identity
    } else if (layer instanceof Layer.Dense) {
      g.addInitializer(tensor(name + ".weight", param(block, "weight")));
      g.addInitializer(tensor(name + ".bias", param(block, "bias")));
      g.addNode(
          node("Gemm", List.of(in, name + ".weight", name + ".bias"), name)
              .addAttribute(
                  AttributeProto.newBuilder()
                      .setName("transB")
                      .setType(AttributeProto.AttributeType.INT)
                      .setI(1)));
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
    TensorProto.Builder t =
        TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT.getNumber());
    for (long d : array.getShape().getShape()) {
      t.addDims(d);
    }
    for (float v : array.toFloatArray()) {
      t.addFloatData(v);
    }
    return t.build();
  }

  private static NodeProto.Builder node(String op, List<String> inputs, String output) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .setName(output)
        .addAllInput(inputs)
        .addOutput(output);
  }

  private static AttributeProto.Builder ints(String name, long... values) {
    AttributeProto.Builder a =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a;
  }

  /** A float tensor whose first dimension is the batch ("N"). */
  private static ValueInfoProto valueInfo(String name, long... dims) {
    TensorShapeProto.Builder shape =
        TensorShapeProto.newBuilder()
            .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
    for (long d : dims) {
      shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT.getNumber())
                        .setShape(shape)))
        .build();
  }
}
