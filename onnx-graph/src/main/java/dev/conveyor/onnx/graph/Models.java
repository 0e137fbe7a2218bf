package dev.conveyor.onnx.graph;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

/** ONNX models around a graph, their metadata, and the float inputs and outputs of graphs. */
public final class Models {
  /** The IR version written: ONNX 1.10's, which every ONNX Runtime of the last years reads. */
  public static final long IR_VERSION = 8;

  private Models() {}

  /** A model of the default operator set {@code opset} around {@code graph}, to add to. */
  public static ModelProto.Builder model(long opset, GraphProto.Builder graph) {
    return ModelProto.newBuilder()
        .setIrVersion(IR_VERSION)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset))
        .setGraph(graph);
  }

  /** One entry of a model's metadata ({@code metadata_props}). */
  public static StringStringEntryProto metadata(String key, String value) {
    return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
  }

  /** A float tensor of any shape, as a graph's input or output. */
  public static ValueInfoProto floatValue(String name) {
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT.getNumber())))
        .build();
  }

  /**
   * A float tensor whose first dimension is the batch, named {@code N}, and whose others are {@code
   * dims}.
   */
  public static ValueInfoProto floatBatch(String name, long... dims) {
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
