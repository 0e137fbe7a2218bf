package dev.conveyor.onnx.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/** Reading and writing the ONNX tensors and attributes the quantizer needs. */
final class Tensors {
  private Tensors() {}

  /** The values of a float initializer, from its raw bytes or its float list. */
  static float[] floats(TensorProto t) {
    if (t.getDataType() != TensorProto.DataType.FLOAT.getNumber()) {
      throw new IllegalArgumentException(t.getName() + " is not a float tensor");
    }
    if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "the model keeps tensor "
              + t.getName()
              + " in an external file; quantize takes models with their weights inside");
    }
    if (!t.getRawData().isEmpty()) {
      ByteBuffer raw = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      float[] v = new float[raw.remaining() / Float.BYTES];
      raw.asFloatBuffer().get(v);
      return v;
    }
    float[] v = new float[t.getFloatDataCount()];
    for (int i = 0; i < v.length; i++) {
      v[i] = t.getFloatData(i);
    }
    return v;
  }

  static TensorProto floats(String name, long[] dims, float[] values) {
    ByteBuffer raw =
        ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(values);
    return tensor(name, TensorProto.DataType.FLOAT, dims, raw.array());
  }

  static TensorProto int8s(String name, long[] dims, byte[] values) {
    return tensor(name, TensorProto.DataType.INT8, dims, values);
  }

  static TensorProto uint8s(String name, long[] dims, byte[] values) {
    return tensor(name, TensorProto.DataType.UINT8, dims, values);
  }

  static TensorProto int32s(String name, long[] dims, int[] values) {
    ByteBuffer raw =
        ByteBuffer.allocate(values.length * Integer.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    raw.asIntBuffer().put(values);
    return tensor(name, TensorProto.DataType.INT32, dims, raw.array());
  }

  private static TensorProto tensor(
      String name, TensorProto.DataType type, long[] dims, byte[] raw) {
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type.getNumber());
    for (long d : dims) {
      t.addDims(d);
    }
    return t.setRawData(ByteString.copyFrom(raw)).build();
  }

  /** A float tensor of any shape, as a graph's input or output. */
  static ValueInfoProto floatValue(String name) {
    return ValueInfoProto.newBuilder()
        .setName(name)
        .setType(
            TypeProto.newBuilder()
                .setTensorType(
                    TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.FLOAT.getNumber())))
        .build();
  }

  static long[] dims(TensorProto t) {
    return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
  }

  /** An integer attribute of {@code node}, or {@code otherwise}. */
  static long intAttribute(NodeProto node, String name, long otherwise) {
    for (AttributeProto a : node.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    return otherwise;
  }

  /** A float attribute of {@code node}, or {@code otherwise}. */
  static float floatAttribute(NodeProto node, String name, float otherwise) {
    for (AttributeProto a : node.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getF();
      }
    }
    return otherwise;
  }

  static AttributeProto intAttribute(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  static NodeProto node(String op, String name, List<String> inputs, String output) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .setName(name)
        .addAllInput(inputs)
        .addOutput(output)
        .build();
  }
}
