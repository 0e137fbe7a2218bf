package dev.conveyor.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.List;

/**
 * The KServe v2 (Open Inference Protocol) endpoints for an image classifier: health (public),
 * server and model metadata, and inference. The model takes one {@code BYTES} input, {@code image},
 * of shape {@code [N]}, or one tensor input, {@code tensor}, of shape {@code [N, C, H, W]} or
 * {@code [N, H, W, C]} (see {@link KServeInputs}), and answers three outputs of shape {@code [N,
 * k]}: {@code label} (BYTES), {@code score} (FP32) and {@code index} (INT64). Errors have the
 * statuses of {@link HttpStatus} and KServe's body, {@code {"error": "…"}}.
 */
final class KServeV2 {
  static final String BINARY_HEADER = "Inference-Header-Content-Length";

  private final Classify classify;
  private final Front front;
  private final Async async;

  KServeV2(Classify classify, Front front, Async async) {
    this.classify = classify;
    this.front = front;
    this.async = async;
  }

  void register(Javalin app) {
    Access.publicGet(app, "/v2/health/live", ctx -> ctx.json(object().put("live", true)));
    Access.publicGet(
        app,
        "/v2/health/ready",
        ctx -> ctx.json(object().put("ready", true).put("model", classify.model())));
    app.get("/v2", this::server);
    app.get("/v2/models/{name}", this::model);
    app.get("/v2/models/{name}/ready", this::ready);
    app.post("/v2/models/{name}/infer", this::infer);
  }

  /** {@code GET /v2}: the server's metadata. */
  private void server(Context ctx) {
    ObjectNode m = object().put("name", "conveyor").put("version", ConveyorServer.VERSION);
    m.putArray("extensions").add("binary_tensor_data");
    ctx.json(m);
  }

  /** {@code GET /v2/models/{name}}: inputs and outputs. */
  private void model(Context ctx) {
    String name = checkModel(ctx);
    int k = classify.top();
    ObjectNode m = object().put("name", name);
    m.putArray("versions").add("1");
    m.put("platform", "conveyor_image_classifier");
    ArrayNode inputs = m.putArray("inputs");
    tensor(inputs.addObject(), KServeInputs.INPUT, "BYTES", -1);
    int[] shape = classify.tensorShape();
    long[] tensorShape = {-1, -1, -1, -1};
    if (shape != null) {
      for (int d = 0; d < shape.length && d < 3; d++) {
        tensorShape[d + 1] = shape[d];
      }
    }
    ObjectNode tensorInput =
        tensor(inputs.addObject(), KServeInputs.TENSOR_INPUT, "FP32", tensorShape);
    tensorInput
        .putObject("parameters")
        .put("also", "UINT8 (RGB pixels), FP16; either layout, NCHW or NHWC");
    ArrayNode outputs = m.putArray("outputs");
    tensor(outputs.addObject(), "label", "BYTES", -1, k);
    tensor(outputs.addObject(), "score", "FP32", -1, k);
    tensor(outputs.addObject(), "index", "INT64", -1, k);
    ctx.json(m);
  }

  /** {@code GET /v2/models/{name}/ready}. */
  private void ready(Context ctx) {
    ctx.json(object().put("name", checkModel(ctx)).put("ready", true));
  }

  /** {@code POST /v2/models/{name}/infer}: every image must succeed, or the first error answers. */
  private void infer(Context ctx) {
    String name = checkModel(ctx);
    KServeInputs inputs = KServeInputs.read(ctx.bodyAsBytes(), ctx.header(BINARY_HEADER));
    async.answer(
        ctx,
        front.classifyAll(inputs.images()),
        results -> {
          for (int i = 0; i < results.size(); i++) {
            ClassifyResult r = results.get(i);
            if (!r.isOk()) {
              throw new ConveyorException(
                  r.error().code(), "image " + i + ": " + r.error().message());
            }
          }
          ctx.json(response(name, inputs.id(), results));
        });
  }

  private static ObjectNode response(String name, String id, List<ClassifyResult> results) {
    int k = 0;
    for (ClassifyResult r : results) {
      k = Math.max(k, r.predictions().size());
    }
    ObjectNode m = object().put("model_name", name).put("model_version", "1");
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
    t.put("name", name).put("datatype", datatype);
    ArrayNode s = t.putArray("shape");
    for (long d : shape) {
      s.add(d);
    }
    return t;
  }

  private static ObjectNode object() {
    return Json.mapper().createObjectNode();
  }

  private String checkModel(Context ctx) {
    String name = ctx.pathParam("name");
    if (!name.equals(classify.model())) {
      throw new ConveyorException(
          ErrorCode.NOT_FOUND,
          "no model '" + name + "' here; this server serves '" + classify.model() + "'");
    }
    return name;
  }
}
