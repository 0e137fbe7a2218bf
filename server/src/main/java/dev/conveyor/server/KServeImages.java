package dev.conveyor.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ImageRequest;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The {@code BYTES} input {@code image} of a KServe v2 request, of shape {@code [N]}, read into one
 * request per encoded image: base64 strings in JSON {@code data}, or raw with the binary tensor
 * extension, each element a 4-byte little-endian length and its bytes. The count declared is
 * checked against the limit before the data is read, and against the images sent after.
 */
final class KServeImages {
  private KServeImages() {}

  /**
   * The input's images, one request each, named {@code image[i]}, with the input's {@code
   * content_type} parameter when it has one.
   *
   * @param body the request's body
   * @param jsonLength the length of its JSON header; the binary data follows
   * @param inputs the request's inputs, whose binary data lies in their order
   * @param input the {@code BYTES} input
   * @param data the input's JSON {@code data}
   * @throws ConveyorException {@code BAD_REQUEST} saying what is wrong, never quoting it
   */
  static List<ImageRequest> read(
      byte[] body,
      int jsonLength,
      JsonNode inputs,
      JsonNode input,
      KServeHeader.Data data,
      KServeInputs.Limits limits) {
    JsonNode shape = input.path("shape");
    long declared = shape.isArray() && shape.size() == 1 ? shape.get(0).asLong(-1) : -1;
    if (declared < 0) {
      throw KServeInputs.bad("input \"image\" has shape [N]: N images");
    }
    if (declared > limits.maxItems()) {
      throw KServeInputs.bad(
          "a request carries at most %d images; this one declares %d"
              .formatted(limits.maxItems(), declared));
    }
    List<byte[]> images =
        input.path("parameters").has("binary_data_size")
            ? elements(KServeInputs.binaryData(body, jsonLength, inputs, input), limits.maxItems())
            : base64(data);
    if (declared != images.size()) {
      throw KServeInputs.bad(
          "input \"image\" has shape [%d] but holds %d images".formatted(declared, images.size()));
    }
    String contentType = input.path("parameters").path("content_type").asText(null);
    List<ImageRequest> requests = new ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      requests.add(ImageRequest.ofBytes("image[" + i + "]", images.get(i), contentType));
    }
    return requests;
  }

  private static List<byte[]> base64(KServeHeader.Data data) {
    if (data.count() > 0 || data.other() || data.strings() == null) {
      throw KServeInputs.bad("input \"image\" needs \"data\": [\"<base64 image>\", …]");
    }
    List<byte[]> images = new ArrayList<>(data.strings().size());
    for (String s : data.strings()) {
      try {
        images.add(Base64.getMimeDecoder().decode(s));
      } catch (IllegalArgumentException e) {
        throw KServeInputs.bad("each image in \"data\" must be base64");
      }
    }
    return images;
  }

  /** Binary {@code BYTES} data: each element a 4-byte little-endian length and its bytes. */
  private static List<byte[]> elements(ByteBuffer b, int maxItems) {
    List<byte[]> images = new ArrayList<>();
    while (b.hasRemaining()) {
      if (images.size() == maxItems) {
        throw KServeInputs.bad("a request carries at most %d images".formatted(maxItems));
      }
      if (b.remaining() < 4) {
        throw KServeInputs.bad(
            "binary BYTES data: each element is a 4-byte little-endian length and its bytes");
      }
      int n = b.getInt();
      if (n < 0 || n > b.remaining()) {
        throw KServeInputs.bad("binary BYTES data: an element's length runs past the data");
      }
      byte[] image = new byte[n];
      b.get(image);
      images.add(image);
    }
    return images;
  }
}
