package dev.conveyor.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.preprocess.DType;
import dev.conveyor.core.preprocess.TensorReader;
import dev.conveyor.core.preprocess.TensorShapes;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * A tensor input of a KServe v2 request, of datatype {@code FP32}, {@code UINT8} or {@code FP16}
 * and shape {@code [N, …]}, read into one request per item, each declared as a tensor of the item's
 * shape: numbers in JSON {@code data}, or little-endian bytes with the binary tensor extension. The
 * shape is checked dimension by dimension, its products with exact arithmetic, before any data is
 * copied.
 */
final class KServeTensors {
  /** The protocol's datatypes: a message may name one of these, never the caller's own text. */
  private static final Set<String> KSERVE_TYPES =
      Set.of(
          "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16",
          "FP32", "FP64", "BF16", "BYTES");

  private KServeTensors() {}

  /**
   * The input's items, one request each, named {@code tensor[i]}: at most {@code maxItems} items,
   * each exactly the model's input when the model is known here, and as many bytes or numbers sent
   * as the shape needs.
   *
   * @param body the request's body
   * @param jsonLength the length of its JSON header; the binary data follows
   * @param inputs the request's inputs, whose binary data lies in their order
   * @param input the tensor input
   * @param data the input's JSON {@code data}
   * @param datatype the input's datatype as the request names it
   * @throws ConveyorException {@code BAD_REQUEST} or {@code BAD_TENSOR} saying what is wrong, never
   *     quoting it
   */
  static List<ImageRequest> read(
      byte[] body,
      int jsonLength,
      JsonNode inputs,
      JsonNode input,
      KServeHeader.Data data,
      String datatype,
      KServeInputs.Limits limits) {
    DType dtype =
        switch (datatype) {
          case "FP32" -> DType.FLOAT32;
          case "FP16" -> DType.FLOAT16;
          case "UINT8" -> DType.UINT8;
          default ->
              throw KServeInputs.bad(
                  (KSERVE_TYPES.contains(datatype) ? datatype : "the input's datatype")
                      + " is not taken: BYTES (encoded images), FP32, FP16 or UINT8 (tensors)");
        };
    int[] shape = shape(input.path("shape"));
    int items = shape[0];
    if (items > limits.maxItems()) {
      throw tensor(
          "a request carries at most %d tensor items; this one declares %d"
              .formatted(limits.maxItems(), items));
    }
    long perItem;
    long itemBytes;
    long total;
    try {
      perItem = 1;
      for (int d = 1; d < shape.length; d++) {
        perItem = Math.multiplyExact(perItem, shape[d]);
      }
      itemBytes = Math.multiplyExact(perItem, dtype.bytes());
      total = Math.multiplyExact(itemBytes, items);
    } catch (ArithmeticException e) {
      throw tensor("a tensor of this shape is too large");
    }
    long want = limits.itemElements();
    if (want >= 0 && perItem != want) {
      throw tensor(
          "each tensor item has %d elements; the model's input has %d (%s)"
              .formatted(perItem, want, TensorShapes.join(limits.itemShape())));
    }
    byte[] all;
    if (input.path("parameters").has("binary_data_size")) {
      ByteBuffer raw = KServeInputs.binaryData(body, jsonLength, inputs, input);
      if (raw.remaining() != total) {
        throw tensor(
            "the binary data is %d bytes; a %s tensor of this shape needs %d"
                .formatted(raw.remaining(), datatype, total));
      }
      all = new byte[(int) total];
      raw.get(all);
    } else {
      all = numbers(data, dtype, perItem * items);
    }
    int[] itemShape = new int[shape.length];
    itemShape[0] = 1;
    System.arraycopy(shape, 1, itemShape, 1, shape.length - 1);
    String contentType = TensorReader.contentType(dtype, itemShape);
    List<ImageRequest> requests = new ArrayList<>(items);
    for (int i = 0; i < items; i++) {
      byte[] item = Arrays.copyOfRange(all, (int) (i * itemBytes), (int) ((i + 1) * itemBytes));
      requests.add(ImageRequest.ofBytes("tensor[" + i + "]", item, contentType));
    }
    return requests;
  }

  /** The declared shape {@code [N, …]}: N items, then each item's 1 to the most dimensions. */
  private static int[] shape(JsonNode shapeNode) {
    if (!shapeNode.isArray()
        || shapeNode.size() < 2
        || shapeNode.size() > TensorReader.MAX_RANK + 1) {
      throw tensor(
          "a tensor input's shape is [N, …]: N items, then each item's %d to %d dimensions"
              .formatted(1, TensorReader.MAX_RANK));
    }
    int[] shape = new int[shapeNode.size()];
    for (int d = 0; d < shape.length; d++) {
      JsonNode dim = shapeNode.get(d);
      if (!dim.canConvertToInt() || dim.asInt() < 1) {
        throw tensor("a tensor input's shape has whole sizes from 1 to 2147483647");
      }
      shape[d] = dim.asInt();
    }
    return shape;
  }

  /** A tensor's numbers from JSON {@code data}, as little-endian bytes. */
  private static byte[] numbers(KServeHeader.Data data, DType dtype, long count) {
    if (dtype == DType.FLOAT16) {
      throw tensor("FP16 tensors come as binary data (the binary tensor extension), not JSON");
    }
    if (data.strings() != null || data.other()) {
      throw tensor("a tensor's \"data\" holds numbers only");
    }
    if (data.count() != count) {
      throw tensor(
          "a tensor of this shape holds %d numbers; \"data\" has %d"
              .formatted(count, data.count()));
    }
    if (dtype == DType.UINT8) {
      if (!data.allBytes()) {
        throw tensor("a UINT8 tensor holds whole numbers 0 to 255");
      }
      byte[] out = new byte[data.count()];
      for (int i = 0; i < out.length; i++) {
        out[i] = (byte) (int) data.numbers()[i];
      }
      return out;
    }
    ByteBuffer out = ByteBuffer.allocate(data.count() * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    out.asFloatBuffer().put(data.numbers(), 0, data.count());
    return out.array();
  }

  private static ConveyorException tensor(String message) {
    return new ConveyorException(ErrorCode.BAD_TENSOR, message);
  }
}
