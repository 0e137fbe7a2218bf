package dev.conveyor.onnx.graph;

import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * ONNX tensors (initializers): written with their values as little-endian raw bytes, as exporters
 * write them, and read back from raw bytes or from the typed value list.
 */
public final class Tensors {
  private Tensors() {}

  /**
   * The values of a float tensor, from its raw bytes or its float list.
   *
   * @throws IllegalArgumentException when it is not a float tensor or its values are in an external
   *     file ({@link #isExternal})
   */
  public static float[] floats(TensorProto t) {
    if (t.getDataType() != TensorProto.DataType.FLOAT.getNumber()) {
      throw new IllegalArgumentException(t.getName() + " is not a float tensor");
    }
    if (isExternal(t)) {
      throw new IllegalArgumentException(t.getName() + " keeps its values in an external file");
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

  /** A float tensor of shape {@code dims}. */
  public static TensorProto floats(String name, long[] dims, float[] values) {
    ByteBuffer raw =
        ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    raw.asFloatBuffer().put(values);
    return tensor(name, TensorProto.DataType.FLOAT, dims, raw.array());
  }

  public static TensorProto int8s(String name, long[] dims, byte[] values) {
    return tensor(name, TensorProto.DataType.INT8, dims, values);
  }

  public static TensorProto uint8s(String name, long[] dims, byte[] values) {
    return tensor(name, TensorProto.DataType.UINT8, dims, values);
  }

  public static TensorProto int32s(String name, long[] dims, int[] values) {
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

  /** Whether the tensor's values are kept in a file beside the model rather than inside it. */
  public static boolean isExternal(TensorProto t) {
    return t.getDataLocation() == TensorProto.DataLocation.EXTERNAL;
  }

  public static long[] dims(TensorProto t) {
    return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
  }
}
