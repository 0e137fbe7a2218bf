package dev.conveyor.onnx.graph;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import java.util.List;

/** ONNX operators (nodes) and their attributes: written, and read with a default. */
public final class Nodes {
  private Nodes() {}

  /** An operator of the default domain with one output. */
  public static NodeProto node(
      String op, String name, List<String> inputs, String output, AttributeProto... attributes) {
    return NodeProto.newBuilder()
        .setOpType(op)
        .setName(name)
        .addAllInput(inputs)
        .addOutput(output)
        .addAllAttribute(List.of(attributes))
        .build();
  }

  /** An integer attribute. */
  public static AttributeProto attribute(String name, long value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.INT)
        .setI(value)
        .build();
  }

  /** A float attribute. */
  public static AttributeProto attribute(String name, float value) {
    return AttributeProto.newBuilder()
        .setName(name)
        .setType(AttributeProto.AttributeType.FLOAT)
        .setF(value)
        .build();
  }

  /** An attribute holding a list of integers, such as {@code kernel_shape} or {@code pads}. */
  public static AttributeProto ints(String name, long... values) {
    AttributeProto.Builder a =
        AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long v : values) {
      a.addInts(v);
    }
    return a.build();
  }

  /** An integer attribute of {@code node}, or {@code otherwise}. */
  public static long intAttribute(NodeProto node, String name, long otherwise) {
    for (AttributeProto a : node.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getI();
      }
    }
    return otherwise;
  }

  /** A float attribute of {@code node}, or {@code otherwise}. */
  public static float floatAttribute(NodeProto node, String name, float otherwise) {
    for (AttributeProto a : node.getAttributeList()) {
      if (a.getName().equals(name)) {
        return a.getF();
      }
    }
    return otherwise;
  }
}
