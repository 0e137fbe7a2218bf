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
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A KServe v2 inference request read into images: its JSON header, and either the {@code BYTES}
 * input {@code image} of shape {@code [N]}, each element one encoded image, base64 in JSON or raw
 * with the binary tensor extension (each element a 4-byte little-endian length and its bytes); or a
 * tensor input ({@code tensor}, or the request's only input) of datatype {@code FP32}, {@code
 * UINT8} or {@code FP16} and shape {@code [N, …]}, each of its N items one image's preprocessed
 * input, numbers in JSON {@code data} or little-endian bytes with the binary extension.
 *
 * @param id the request's id, or null
 * @param images one request per image, in order
 * @param outputs the outputs asked for by name; empty: the default ones
 * @param binaryOutputs the outputs to answer as binary data ({@code *}: all that can be)
 */
record KServeInputs(
    String id, List<ImageRequest> images, List<String> outputs, Set<String> binaryOutputs) {
  static final String INPUT = "image";
  static final String TENSOR_INPUT = "tensor";

  /** The protocol's datatypes: a message may name one of these, never the caller's own text. */
  private static final Set<String> KSERVE_TYPES =
      Set.of(
          "BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64", "FP16",
          "FP32", "FP64", "BF16", "BYTES");

  /**
   * What one request may carry: at most {@code maxItems} images or tensor items, and, when the
   * model is known here, tensor items of exactly the model's input.
   *
   * @param maxItems the most images or tensor items in one request
   * @param itemShape one image's tensor as the model takes it, or {@code null} when this server has
   *     not loaded the model (then only sizes and counts are checked here, and the worker checks
   *     the rest)
   */
  record Limits(int maxItems, int[] itemShape) {
    /** Elements of one item of the model's input, or -1 when the model is not known here. */
    long itemElements() {
      if (itemShape == null) {
        return -1;
      }
      long n = 1;
      for (int d : itemShape) {
        n = Math.multiplyExact(n, d);
      }
      return n;
    }
  }

  /**
   * Reads a request's body. Every count and size it declares is checked, with overflow-safe
   * arithmetic, against the limits and the bytes actually sent before anything is made of it; the
   * numbers of a tensor's {@code data} are read as they stream past, into one array, rather than as
   * a tree of JSON nodes.
   *
   * @param headerLength the {@code Inference-Header-Content-Length} header, or null without binary
   *     data
   * @throws ConveyorException {@code BAD_REQUEST} or {@code BAD_TENSOR} saying what is wrong with
   *     it, never quoting it
   */
  static KServeInputs read(byte[] body, String headerLength, Limits limits) {
    int jsonLength = body.length;
    if (headerLength != null) {
      try {
        jsonLength = Integer.parseInt(headerLength.trim());
      } catch (NumberFormatException e) {
        jsonLength = -1;
      }
      if (jsonLength < 0 || jsonLength > body.length) {
        throw bad(KServeV2.BINARY_HEADER + " must be the JSON header's length, at most the body's");
      }
    }
    KServeHeader header = KServeHeader.read(body, jsonLength, limits.maxItems());
    JsonNode request = header.request();
    if (!request.path("inputs").isArray() || request.path("inputs").isEmpty()) {
      throw bad(
          "the request needs \"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", …}]");
    }
    int chosen = -1;
    JsonNode inputs = request.path("inputs");
    for (int i = 0; i < inputs.size(); i++) {
      String name = inputs.get(i).path("name").asText();
      if (INPUT.equals(name) || TENSOR_INPUT.equals(name)) {
        chosen = i;
      }
    }
    if (chosen < 0 && inputs.size() == 1) {
      chosen = 0;
    }
    if (chosen < 0) {
      throw bad(
          "the model's inputs are \""
              + INPUT
              + "\" (BYTES, encoded images) and \""
              + TENSOR_INPUT
              + "\" (FP32, FP16 or UINT8 tensors)");
    }
    JsonNode input = inputs.get(chosen);
    KServeHeader.Data data = header.data(chosen);
    String datatype = input.path("datatype").asText();
    if (!"BYTES".equals(datatype)) {
      return new KServeInputs(
          request.path("id").asText(null),
          tensors(body, jsonLength, inputs, input, data, datatype, limits),
          outputs(request),
          binaryOutputs(request));
    }
    JsonNode shape = input.path("shape");
    long declared = shape.isArray() && shape.size() == 1 ? shape.get(0).asLong(-1) : -1;
    if (declared < 0) {
      throw bad("input \"image\" has shape [N]: N images");
    }
    if (declared > limits.maxItems()) {
      throw bad(
          "a request carries at most %d images; this one declares %d"
              .formatted(limits.maxItems(), declared));
    }
    List<byte[]> images =
        input.path("parameters").has("binary_data_size")
            ? binary(body, jsonLength, inputs, input, limits.maxItems())
            : base64(data);
    if (declared != images.size()) {
      throw bad(
          "input \"image\" has shape [%d] but holds %d images".formatted(declared, images.size()));
    }
    String contentType = input.path("parameters").path("content_type").asText(null);
    List<ImageRequest> requests = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      requests.add(ImageRequest.ofBytes("image[" + i + "]", images.get(i), contentType));
    }
    return new KServeInputs(
        request.path("id").asText(null), requests, outputs(request), binaryOutputs(request));
  }

  /** Whether the request asks for this output: by name, or by asking for none (the defaults). */
  boolean wants(String output) {
    return outputs.isEmpty() ? !output.equals(KServeV2.OUTPUT) : outputs.contains(output);
  }

  /** Whether this output is answered as binary data. */
  boolean binaryOutput(String output) {
    return binaryOutputs.contains("*") || binaryOutputs.contains(output);
  }

  private static List<String> outputs(JsonNode request) {
    List<String> names = new ArrayList<>();
    for (JsonNode o : request.path("outputs")) {
      String name = o.path("name").asText();
      if (!List.of("label", "score", "index", KServeV2.OUTPUT).contains(name)) {
        throw bad("the model's outputs are label, score, index and output; no other is answered");
      }
      names.add(name);
    }
    return names;
  }

  private static Set<String> binaryOutputs(JsonNode request) {
    Set<String> binary = new HashSet<>();
    if (request.path("parameters").path("binary_data_output").asBoolean(false)) {
      binary.add("*");
    }
    for (JsonNode o : request.path("outputs")) {
      if (o.path("parameters").path("binary_data").asBoolean(false)) {
        binary.add(o.path("name").asText());
      }
    }
    return binary;
  }

  /**
   * A tensor input's items, one request each, declared as tensors of the item's shape. The shape is
   * checked dimension by dimension, its products with exact arithmetic: at most {@code maxItems}
   * items, each exactly the model's input when the model is known here, and as many bytes or
   * numbers sent as the shape needs.
   */
  private static List<ImageRequest> tensors(
      byte[] body,
      int jsonLength,
      JsonNode inputs,
      JsonNode input,
      KServeHeader.Data data,
      String datatype,
      Limits limits) {
    DType dtype =
        switch (datatype) {
          case "FP32" -> DType.FLOAT32;
          case "FP16" -> DType.FLOAT16;
          case "UINT8" -> DType.UINT8;
          default ->
              throw bad(
                  (KSERVE_TYPES.contains(datatype) ? datatype : "the input's datatype")
                      + " is not taken: BYTES (encoded images), FP32, FP16 or UINT8 (tensors)");
        };
    JsonNode shapeNode = input.path("shape");
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
      ByteBuffer raw = binaryData(body, jsonLength, inputs, input);
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

  private static List<byte[]> base64(KServeHeader.Data data) {
    if (data.count() > 0 || data.other() || data.strings() == null) {
      throw bad("input \"image\" needs \"data\": [\"<base64 image>\", …]");
    }
    List<byte[]> images = new ArrayList<>(data.strings().size());
    for (String s : data.strings()) {
      try {
        images.add(Base64.getMimeDecoder().decode(s));
      } catch (IllegalArgumentException e) {
        throw bad("each image in \"data\" must be base64");
      }
    }
    return images;
  }

  /** The binary extension: inputs' bytes follow the JSON header, in the order of the inputs. */
  private static List<byte[]> binary(
      byte[] body, int jsonLength, JsonNode inputs, JsonNode input, int maxItems) {
    return elements(binaryData(body, jsonLength, inputs, input), maxItems);
  }

  /** An input's bytes with the binary extension. */
  private static ByteBuffer binaryData(
      byte[] body, int jsonLength, JsonNode inputs, JsonNode input) {
    long offset = jsonLength;
    for (JsonNode i : inputs) {
      JsonNode declared = i.path("parameters").path("binary_data_size");
      long size =
          declared.isMissingNode() ? 0 : declared.canConvertToLong() ? declared.asLong() : -1;
      if (size < 0 || size > body.length - offset) {
        throw new ConveyorException(
            i == input && "BYTES".equals(i.path("datatype").asText())
                ? ErrorCode.BAD_REQUEST
                : ErrorCode.BAD_TENSOR,
            "an input's binary_data_size runs past the end of the request");
      }
      if (i == input) {
        return ByteBuffer.wrap(body, (int) offset, (int) size)
            .slice()
            .order(ByteOrder.LITTLE_ENDIAN);
      }
      offset += size;
    }
    throw new IllegalStateException("input not among inputs");
  }

  private static List<byte[]> elements(ByteBuffer b, int maxItems) {
    List<byte[]> images = new ArrayList<>();
    while (b.hasRemaining()) {
      if (images.size() == maxItems) {
        throw bad("a request carries at most %d images".formatted(maxItems));
      }
      if (b.remaining() < 4) {
        throw bad("binary BYTES data: each element is a 4-byte little-endian length and its bytes");
      }
      int n = b.getInt();
      if (n < 0 || n > b.remaining()) {
        throw bad("binary BYTES data: an element's length runs past the data");
      }
      byte[] image = new byte[n];
      b.get(image);
      images.add(image);
    }
    return images;
  }

  private static ConveyorException bad(String message) {
    return new ConveyorException(ErrorCode.BAD_REQUEST, message);
  }
}
