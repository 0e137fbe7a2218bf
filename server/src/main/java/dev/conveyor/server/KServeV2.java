package dev.conveyor.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import io.javalin.http.Context;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The KServe v2 (Open Inference Protocol) model endpoints for an image classifier. The model takes
 * one {@code BYTES} input, {@code image}, of shape {@code [N]}: each element one encoded image,
 * base64 in JSON or raw with the binary tensor extension ({@code Inference-Header-Content-Length};
 * each element a 4-byte little-endian length and its bytes). It answers three outputs of shape
 * {@code [N, k]}: {@code label} (BYTES), {@code score} (FP32) and {@code index} (INT64).
 */
final class KServeV2 {
  static final String INPUT = "image";
  private static final String BINARY_HEADER = "Inference-Header-Content-Length";

  private final Classify classify;
  private final Function<List<ImageRequest>, List<ClassifyResult>> run;

  /**
   * @param run classifies a request's images, answering in order, or throws {@link HttpError}
   */
  KServeV2(Classify classify, Function<List<ImageRequest>, List<ClassifyResult>> run) {
    this.classify = classify;
    this.run = run;
  }

  /** {@code GET /v2}: the server's metadata. */
  void server(Context ctx) {
    ObjectNode m = Json.mapper().createObjectNode();
    m.put("name", "conveyor");
    m.put("version", ConveyorServer.VERSION);
    m.putArray("extensions").add("binary_tensor_data");
    ctx.json(m);
  }

  /** {@code GET /v2/models/{name}}: inputs and outputs. */
  void model(Context ctx) {
    String name = checkModel(ctx);
    int k = classify.top();
    ObjectNode m = Json.mapper().createObjectNode();
    m.put("name", name);
    m.putArray("versions").add("1");
    m.put("platform", "conveyor_image_classifier");
    ArrayNode inputs = m.putArray("inputs");
    tensor(inputs.addObject(), INPUT, "BYTES", -1);
    ArrayNode outputs = m.putArray("outputs");
    tensor(outputs.addObject(), "label", "BYTES", -1, k);
    tensor(outputs.addObject(), "score", "FP32", -1, k);
    tensor(outputs.addObject(), "index", "INT64", -1, k);
    ctx.json(m);
  }

  /** {@code GET /v2/models/{name}/ready}. */
  void ready(Context ctx) {
    ObjectNode m = Json.mapper().createObjectNode();
    m.put("name", checkModel(ctx));
    m.put("ready", true);
    ctx.json(m);
  }

  /** {@code POST /v2/models/{name}/infer}. */
  void infer(Context ctx) {
    String name = checkModel(ctx);
    byte[] body = ctx.bodyAsBytes();
    String headerLength = ctx.header(BINARY_HEADER);
    int jsonLength = body.length;
    if (headerLength != null) {
      try {
        jsonLength = Integer.parseInt(headerLength.trim());
      } catch (NumberFormatException e) {
        jsonLength = -1;
      }
      if (jsonLength < 0 || jsonLength > body.length) {
        throw bad(BINARY_HEADER + " must be the JSON header's length, at most the body's");
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
    List<ClassifyResult> results = run.apply(requests);
    for (int i = 0; i < results.size(); i++) {
      ClassifyResult r = results.get(i);
      if (!r.isOk()) {
        throw new HttpError(
            400, r.error().code().name(), "image " + i + ": " + r.error().message());
      }
    }
    ctx.json(response(name, request.path("id").asText(null), results));
  }

  private ObjectNode response(String name, String id, List<ClassifyResult> results) {
    int k = 0;
    for (ClassifyResult r : results) {
      k = Math.max(k, r.predictions().size());
    }
    ObjectNode m = Json.mapper().createObjectNode();
    m.put("model_name", name);
    m.put("model_version", "1");
    if (id != null) {
      m.put("id", id);
    }
    ArrayNode outputs = m.putArray("outputs");
    int n = results.size();
    ArrayNode labels = tensor(outputs.addObject(), "label", "BYTES", n, k).putArray("data");
    ArrayNode scores = tensor(outputs.addObject(), "score", "FP32", n, k).putArray("data");
    ArrayNode indices = tensor(outputs.addObject(), "index", "INT64", n, k).putArray("data");
    for (ClassifyResult r : results) {
      List<Prediction> p = r.predictions();
      for (int j = 0; j < k; j++) {
        boolean has = j < p.size();
        labels.add(has ? p.get(j).label() : "");
        scores.add(has ? p.get(j).score() : 0f);
        indices.add(has ? p.get(j).index() : -1);
      }
    }
    return m;
  }

  /** Fills a tensor's name, datatype and shape; answers the tensor. */
  private static ObjectNode tensor(ObjectNode t, String name, String datatype, long... shape) {
    t.put("name", name);
    t.put("datatype", datatype);
    ArrayNode s = t.putArray("shape");
    for (long d : shape) {
      s.add(d);
    }
    return t;
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
      if (i == input) {
        if (size < 0 || offset + size > body.length) {
          throw bad("binary_data_size " + size + " runs past the end of the request");
        }
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

  private String checkModel(Context ctx) {
    String name = ctx.pathParam("name");
    if (!name.equals(classify.model())) {
      throw new HttpError(
          404,
          "NO_SUCH_MODEL",
          "no model '" + name + "' here; this server serves '" + classify.model() + "'");
    }
    return name;
  }

  private static HttpError bad(String message) {
    return new HttpError(400, "BAD_REQUEST", message, Map.of());
  }
}
