package dev.conveyor.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.preprocess.TensorReader;
import java.io.IOException;
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

  /**
   * Reads a request's body.
   *
   * @param headerLength the {@code Inference-Header-Content-Length} header, or null without binary
   *     data
   * @throws ConveyorException {@code BAD_REQUEST} saying what is wrong with it
   */
  static KServeInputs read(byte[] body, String headerLength) {
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
    JsonNode request;
    try {
      request = Json.mapper().readTree(body, 0, jsonLength);
    } catch (IOException e) {
      throw bad("the request is not JSON: " + e.getMessage());
    }
    if (request == null || !request.path("inputs").isArray() || request.path("inputs").isEmpty()) {
      throw bad(
          "the request needs \"inputs\": [{\"name\": \"image\", \"datatype\": \"BYTES\", …}]");
    }
    JsonNode input = null;
    for (JsonNode i : request.path("inputs")) {
      String name = i.path("name").asText();
      if (INPUT.equals(name) || TENSOR_INPUT.equals(name)) {
        input = i;
      }
    }
    if (input == null && request.path("inputs").size() == 1) {
      input = request.path("inputs").get(0);
    }
    if (input == null) {
      throw bad(
          "the model's inputs are \""
              + INPUT
              + "\" (BYTES, encoded images) and \""
              + TENSOR_INPUT
              + "\" (FP32, FP16 or UINT8 tensors)");
    }
    String datatype = input.path("datatype").asText();
    if (!"BYTES".equals(datatype)) {
      return new KServeInputs(
          request.path("id").asText(null),
          tensors(body, jsonLength, request.path("inputs"), input, datatype),
          outputs(request),
          binaryOutputs(request));
    }
    List<byte[]> images =
        input.path("parameters").has("binary_data_size")
            ? binary(body, jsonLength, request.path("inputs"), input)
            : base64(input.path("data"));
    JsonNode shape = input.path("shape");
    if (!shape.isArray() || shape.size() != 1 || shape.get(0).asLong() != images.size()) {
      throw bad("input \"image\" has shape " + shape + " but holds " + images.size() + " images");
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
        throw bad("the model's outputs are label, score, index and output, not \"" + name + "\"");
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

  /** A tensor input's items, one request each, declared as tensors of the item's shape. */
  private static List<ImageRequest> tensors(
      byte[] body, int jsonLength, JsonNode inputs, JsonNode input, String datatype) {
    TensorReader.DType dtype =
        switch (datatype) {
          case "FP32" -> TensorReader.DType.FLOAT32;
          case "FP16" -> TensorReader.DType.FLOAT16;
          case "UINT8" -> TensorReader.DType.UINT8;
          default ->
              throw bad(
                  "datatype "
                      + datatype
                      + " is not taken: BYTES (encoded images), FP32, FP16 or UINT8 (tensors)");
        };
    JsonNode shapeNode = input.path("shape");
    if (!shapeNode.isArray() || shapeNode.size() < 2) {
      throw tensor("a tensor input's shape is [N, …] (N images), not " + shapeNode);
    }
    int[] shape = new int[shapeNode.size()];
    long perItem = 1;
    for (int d = 0; d < shape.length; d++) {
      shape[d] = shapeNode.get(d).asInt(-1);
      if (shape[d] < 1) {
        throw tensor("a tensor input's shape has positive sizes, not " + shapeNode);
      }
      if (d > 0) {
        perItem *= shape[d];
      }
    }
    long itemBytes = perItem * dtype.bytes();
    long total = itemBytes * shape[0];
    if (total > Integer.MAX_VALUE) {
      throw tensor("a tensor of shape " + shapeNode + " is too large");
    }
    byte[] all;
    if (input.path("parameters").has("binary_data_size")) {
      ByteBuffer raw = binaryData(body, jsonLength, inputs, input);
      if (raw.remaining() != total) {
        throw tensor(
            "the binary data of shape %s %s is %d bytes, not %d"
                .formatted(shapeNode, datatype, raw.remaining(), total));
      }
      all = new byte[(int) total];
      raw.get(all);
    } else {
      all = numbers(input.path("data"), dtype, (int) (perItem * shape[0]), shapeNode);
    }
    int[] itemShape = new int[shape.length];
    itemShape[0] = 1;
    System.arraycopy(shape, 1, itemShape, 1, shape.length - 1);
    String contentType = TensorReader.contentType(dtype, itemShape);
    List<ImageRequest> requests = new ArrayList<>();
    for (int i = 0; i < shape[0]; i++) {
      byte[] item = Arrays.copyOfRange(all, (int) (i * itemBytes), (int) ((i + 1) * itemBytes));
      requests.add(ImageRequest.ofBytes("tensor[" + i + "]", item, contentType));
    }
    return requests;
  }

  /** A tensor's numbers from JSON (flat or nested, row-major), as little-endian bytes. */
  private static byte[] numbers(
      JsonNode data, TensorReader.DType dtype, int count, JsonNode shape) {
    if (dtype == TensorReader.DType.FLOAT16) {
      throw tensor("FP16 tensors come as binary data (the binary tensor extension), not JSON");
    }
    List<JsonNode> flat = new ArrayList<>();
    flatten(data, flat);
    if (flat.size() != count) {
      throw tensor(
          "a tensor of shape %s holds %d numbers; \"data\" has %d"
              .formatted(shape, count, flat.size()));
    }
    ByteBuffer out = ByteBuffer.allocate(count * dtype.bytes()).order(ByteOrder.LITTLE_ENDIAN);
    for (JsonNode v : flat) {
      if (!v.isNumber()) {
        throw tensor("a tensor's \"data\" holds numbers, not " + v);
      }
      if (dtype == TensorReader.DType.UINT8) {
        int b = v.asInt();
        if (!v.canConvertToInt() || b < 0 || b > 255 || v.asDouble() != b) {
          throw tensor("a UINT8 tensor holds whole numbers 0 to 255, not " + v);
        }
        out.put((byte) b);
      } else {
        out.putFloat((float) v.asDouble());
      }
    }
    return out.array();
  }

  private static void flatten(JsonNode data, List<JsonNode> into) {
    if (data.isArray()) {
      for (JsonNode d : data) {
        flatten(d, into);
      }
    } else if (!data.isMissingNode() && !data.isNull()) {
      into.add(data);
    }
  }

  private static ConveyorException tensor(String message) {
    return new ConveyorException(ErrorCode.BAD_TENSOR, message);
  }

  private static List<byte[]> base64(JsonNode data) {
    List<byte[]> images = new ArrayList<>();
    collect(data, images);
    return images;
  }

  private static void collect(JsonNode data, List<byte[]> images) {
    if (data.isArray()) {
      for (JsonNode d : data) {
        collect(d, images);
      }
    } else if (data.isTextual()) {
      try {
        images.add(Base64.getMimeDecoder().decode(data.asText()));
      } catch (IllegalArgumentException e) {
        throw bad("each image in \"data\" must be base64: " + e.getMessage());
      }
    } else {
      throw bad("input \"image\" needs \"data\": [\"<base64 image>\", …]");
    }
  }

  /** The binary extension: inputs' bytes follow the JSON header, in the order of the inputs. */
  private static List<byte[]> binary(byte[] body, int jsonLength, JsonNode inputs, JsonNode input) {
    return elements(binaryData(body, jsonLength, inputs, input));
  }

  /** An input's bytes with the binary extension. */
  private static ByteBuffer binaryData(
      byte[] body, int jsonLength, JsonNode inputs, JsonNode input) {
    int offset = jsonLength;
    for (JsonNode i : inputs) {
      long size = i.path("parameters").path("binary_data_size").asLong(0);
      if (size < 0 || offset + size > body.length) {
        throw new ConveyorException(
            i == input && "BYTES".equals(i.path("datatype").asText())
                ? ErrorCode.BAD_REQUEST
                : ErrorCode.BAD_TENSOR,
            "binary_data_size " + size + " runs past the end of the request");
      }
      if (i == input) {
        return ByteBuffer.wrap(body, offset, (int) size).slice().order(ByteOrder.LITTLE_ENDIAN);
      }
      offset += (int) size;
    }
    throw new IllegalStateException("input not among inputs");
  }

  private static List<byte[]> elements(ByteBuffer b) {
    List<byte[]> images = new ArrayList<>();
    while (b.hasRemaining()) {
      if (b.remaining() < 4) {
        throw bad("binary BYTES data: each element is a 4-byte little-endian length and its bytes");
      }
      int n = b.getInt();
      if (n < 0 || n > b.remaining()) {
        throw bad("binary BYTES data: an element's length " + n + " runs past the data");
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
