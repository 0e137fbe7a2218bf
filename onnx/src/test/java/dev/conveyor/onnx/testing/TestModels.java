package dev.conveyor.onnx.testing;

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
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Small real ONNX models for tests, written with the ONNX protobuf schema. The colour model
 * averages each channel over the image and maps the averages to class scores through a weight
 * matrix: with the identity it classifies an image by its dominant colour.
 */
public final class TestModels {
  public static final List<String> COLOURS = List.of("red", "green", "blue");

  private TestModels() {}

  /** Describes a colour model to write. */
  public record Colour(
      int batch,
      int channels,
      int height,
      int width,
      boolean nhwc,
      boolean softmax,
      boolean labels) {
    /** Dynamic batch, 3 x 224 x 224, NCHW, logits, labels in the metadata. */
    public static Colour imagenetSized() {
      return new Colour(0, 3, 224, 224, false, false, true);
    }

    public Colour withBatch(int b) {
      return new Colour(b, channels, height, width, nhwc, softmax, labels);
    }

    public Colour withSize(int h, int w) {
      return new Colour(batch, channels, h, w, nhwc, softmax, labels);
    }

    public Colour channelsLast() {
      return new Colour(batch, channels, height, width, true, softmax, labels);
    }

    public Colour withSoftmax() {
      return new Colour(batch, channels, height, width, nhwc, true, labels);
    }

    public Colour noLabels() {
      return new Colour(batch, channels, height, width, nhwc, softmax, false);
    }
  }

  /** Weights of the colour model: identity, so score c is the mean of channel c. */
  public static float[][] weights(int channels) {
    float[][] w = new float[channels][COLOURS.size()];
    for (int c = 0; c < channels; c++) {
      w[c][c % COLOURS.size()] = 1f;
    }
    return w;
  }

  /**
   * An ImageNet-sized colour model written into a model repository as {@code
   * REPO/NAME/VERSION/model.onnx}.
   */
  public static Path publishColour(Path repo, String model, int version) {
    Path folder = repo.resolve(model).resolve(Integer.toString(version));
    try {
      Files.createDirectories(folder);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return writeColour(folder.resolve("model.onnx"), Colour.imagenetSized());
  }

  public static Path writeColour(Path file, Colour m) {
    int classes = COLOURS.size();
    float[][] w = weights(m.channels());
    TensorProto.Builder weight =
        TensorProto.newBuilder().setName("W").setDataType(TensorProto.DataType.FLOAT.getNumber());
    weight.addDims(m.channels()).addDims(classes);
    for (float[] row : w) {
      for (float v : row) {
        weight.addFloatData(v);
      }
    }
    TensorProto.Builder bias =
        TensorProto.newBuilder().setName("B").setDataType(TensorProto.DataType.FLOAT.getNumber());
    bias.addDims(classes);
    for (int i = 0; i < classes; i++) {
      bias.addFloatData(0.01f * i);
    }
    String scores = m.softmax() ? "logits" : "scores";
    GraphProto.Builder graph =
        GraphProto.newBuilder()
            .setName("colour")
            .addInitializer(weight)
            .addInitializer(bias)
            .addInput(valueInfo("image", inputDims(m)))
            .addOutput(valueInfo("scores", new long[] {m.batch(), classes}))
            .addNode(
                node("ReduceMean", List.of("image"), "means")
                    .addAttribute(ints("axes", m.nhwc() ? new long[] {1, 2} : new long[] {2, 3}))
                    .addAttribute(
                        AttributeProto.newBuilder()
                            .setName("keepdims")
                            .setType(AttributeProto.AttributeType.INT)
                            .setI(0)))
            .addNode(node("MatMul", List.of("means", "W"), "product"))
            .addNode(node("Add", List.of("product", "B"), scores));
    if (m.softmax()) {
      graph.addNode(
          node("Softmax", List.of("logits"), "scores")
              .addAttribute(
                  AttributeProto.newBuilder()
                      .setName("axis")
                      .setType(AttributeProto.AttributeType.INT)
                      .setI(1)));
    }
    ModelProto.Builder model =
        ModelProto.newBuilder()
            .setIrVersion(8)
            .setProducerName("conveyor-tests")
            .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
            .setGraph(graph);
    if (m.labels()) {
      model.addMetadataProps(
          StringStringEntryProto.newBuilder()
              .setKey("labels")
              .setValue(String.join("\n", COLOURS)));
    }
    try {
      Files.write(file, model.build().toByteArray());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  private static long[] inputDims(Colour m) {
    return m.nhwc()
        ? new long[] {m.batch(), m.height(), m.width(), m.channels()}
        : new long[] {m.batch(), m.channels(), m.height(), m.width()};
  }

  private static NodeProto.Builder node(String op, List<String> inputs, String output) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .setName(output)
        .addAllInput(inputs)
        .addOutput(output);
  }

  private static AttributeProto.Builder ints(String name, long[] values) {
    AttributeProto.Builder a =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a;
  }

  /** A float tensor's type; a dimension of 0 or less is left open, named by its position. */
  private static ValueInfoProto valueInfo(String name, long[] dims) {
    TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
    for (int i = 0; i < dims.length; i++) {
      shape.addDim(
          dims[i] > 0
              ? TensorShapeProto.Dimension.newBuilder().setDimValue(dims[i])
              : TensorShapeProto.Dimension.newBuilder().setDimParam(i == 0 ? "N" : "d" + i));
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
