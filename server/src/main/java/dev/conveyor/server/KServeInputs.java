package dev.conveyor.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
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
 * <p>This record reads the body's layout, picks the input and reads the outputs asked for; {@link
 * KServeImages} and {@link KServeTensors} read the input itself.
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
    List<ImageRequest> images =
        "BYTES".equals(datatype)
            ? KServeImages.read(body, jsonLength, inputs, input, data, limits)
            : KServeTensors.read(body, jsonLength, inputs, input, data, datatype, limits);
    return new KServeInputs(
        request.path("id").asText(null), images, outputs(request), binaryOutputs(request));
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
   * An input's bytes with the binary extension: inputs' bytes follow the JSON header, in the order
   * of the inputs, each {@code binary_data_size} long (none without it).
   */
  static ByteBuffer binaryData(byte[] body, int jsonLength, JsonNode inputs, JsonNode input) {
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

  /** A {@code BAD_REQUEST} that says what is wrong with the request. */
  static ConveyorException bad(String message) {
    return new ConveyorException(ErrorCode.BAD_REQUEST, message);
  }
}
