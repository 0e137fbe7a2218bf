package dev.conveyor.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * A KServe v2 inference request read into images: its JSON header, and the {@code BYTES} input
 * {@code image} of shape {@code [N]}, each element one encoded image, base64 in JSON or raw with
 * the binary tensor extension (each element a 4-byte little-endian length and its bytes).
 *
 * @param id the request's id, or null
 * @param images one request per image, in order
 */
record KServeInputs(String id, List<ImageRequest> images) {
  static final String INPUT = "image";

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
      if (INPUT.equals(i.path("name").asText())) {
        input = i;
      }
    }
    if (input == null) {
      throw bad("the model's input is named \"" + INPUT + "\"");
    }
    if (!"BYTES".equals(input.path("datatype").asText())) {
      throw bad("input \"image\" must have datatype BYTES (encoded images)");
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
    return new KServeInputs(request.path("id").asText(null), requests);
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
    int offset = jsonLength;
    for (JsonNode i : inputs) {
      long size = i.path("parameters").path("binary_data_size").asLong(0);
      if (size < 0 || offset + size > body.length) {
        throw bad("binary_data_size " + size + " runs past the end of the request");
      }
      if (i == input) {
        return elements(ByteBuffer.wrap(body, offset, (int) size).order(ByteOrder.LITTLE_ENDIAN));
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
