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
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
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

  /** The output tensor: every class's score, {@code FP32 [N, classes]}. */
  static final String OUTPUT = "output";

  private final Classify classify;
  private final Front front;
  private final Async async;
  private final Uploads uploads;

  KServeV2(Classify classify, Front front, Async async, Uploads uploads) {
    this.classify = classify;
    this.front = front;
    this.async = async;
    this.uploads = uploads;
  }

  void register(Javalin app) {
    Access.publicGet(app, "/v2/health/live", this::live);
    Access.publicGet(
        app,
        "/v2/health/ready",
        ctx -> ctx.json(object().put("ready", true).put("model", classify.model())));
    app.get("/v2", this::server);
    app.get("/v2/models/{name}", this::model);
    app.get("/v2/models/{name}/ready", this::ready);
    app.post("/v2/models/{name}/infer", this::infer);
  }

  /** {@code GET /v2/health/live}: 200 while requests can be answered, else 503. */
  private void live(Context ctx) {
    boolean live = classify.live();
    ctx.status(live ? 200 : 503).json(object().put("live", live));
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
    ArrayNode versions = m.putArray("versions");
    classify.versions(name).forEach(versions::add);
    m.put("platform", "conveyor_image_classifier");
    ArrayNode inputs = m.putArray("inputs");
    tensor(inputs.addObject(), KServeInputs.INPUT, "BYTES", -1);
    int[] shape = classify.tensorShape(name);
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
    tensor(outputs.addObject(), OUTPUT, "FP32", -1, -1)
        .putObject("parameters")
        .put("needs", "serve --top at least the model's classes (with --scores raw: logits)");
    ctx.json(m);
  }

  /** {@code GET /v2/models/{name}/ready}. */
  private void ready(Context ctx) {
    ctx.json(object().put("name", checkModel(ctx)).put("ready", true));
  }

  /**
   * {@code POST /v2/models/{name}/infer}: every image must succeed, or the first error answers. The
   * request's {@code outputs} choose among {@code label}, {@code score}, {@code index} (the
   * default) and {@code output}; {@code binary_data_output} (or an output's {@code binary_data})
   * answers {@code output} as little-endian bytes after the JSON header.
   */
  private void infer(Context ctx) {
    String name = checkModel(ctx);
    KServeInputs inputs =
        KServeInputs.read(
            uploads.bytes(ctx),
            ctx.header(BINARY_HEADER),
            new KServeInputs.Limits(classify.queueCapacity(), classify.tensorShape(name)));
    async.answer(
        ctx,
        front.classifyAll(ModelParam.naming(inputs.images(), name)),
        results -> {
          for (int i = 0; i < results.size(); i++) {
            ClassifyResult r = results.get(i);
            if (!r.isOk()) {
              throw new ConveyorException(
                  r.error().code(), "image " + i + ": " + r.error().message());
            }
          }
          respond(ctx, name, inputs, results);
        });
  }

  private static void respond(
      Context ctx, String name, KServeInputs inputs, List<ClassifyResult> results) {
    int k = 0;
    for (ClassifyResult r : results) {
      k = Math.max(k, r.predictions().size());
    }
    // the version that answered: a repository's, or 1 for a model served alone
    Long version = results.isEmpty() ? null : results.get(0).version();
    ObjectNode m =
        object()
            .put("model_name", name)
            .put("model_version", version == null ? "1" : Long.toString(version));
    if (inputs.id() != null) {
      m.put("id", inputs.id());
    }
    ArrayNode outputs = m.putArray("outputs");
    int n = results.size();
    if (inputs.wants("label")) {
      ArrayNode labels = tensor(outputs.addObject(), "label", "BYTES", n, k).putArray("data");
      for (ClassifyResult r : results) {
        for (int j = 0; j < k; j++) {
          labels.add(j < r.predictions().size() ? r.predictions().get(j).label() : "");
        }
      }
    }
    if (inputs.wants("score")) {
      ArrayNode scores = tensor(outputs.addObject(), "score", "FP32", n, k).putArray("data");
      for (ClassifyResult r : results) {
        for (int j = 0; j < k; j++) {
          scores.add(j < r.predictions().size() ? r.predictions().get(j).score() : 0f);
        }
      }
    }
    if (inputs.wants("index")) {
      ArrayNode indices = tensor(outputs.addObject(), "index", "INT64", n, k).putArray("data");
      for (ClassifyResult r : results) {
        for (int j = 0; j < k; j++) {
          indices.add(j < r.predictions().size() ? r.predictions().get(j).index() : -1);
        }
      }
    }
    if (!inputs.wants(OUTPUT)) {
      ctx.json(m);
      return;
    }
    float[][] all = allScores(results);
    int classes = all[0].length;
    ObjectNode output = tensor(outputs.addObject(), OUTPUT, "FP32", n, classes);
    if (!inputs.binaryOutput(OUTPUT)) {
      ArrayNode data = output.putArray("data");
      for (float[] row : all) {
        for (float v : row) {
          data.add(v);
        }
      }
      ctx.json(m);
      return;
    }
    ByteBuffer raw = ByteBuffer.allocate(n * classes * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    FloatBuffer floats = raw.asFloatBuffer();
    for (float[] row : all) {
      floats.put(row);
    }
    output.putObject("parameters").put("binary_data_size", raw.capacity());
    byte[] header = m.toString().getBytes(StandardCharsets.UTF_8);
    ctx.header(BINARY_HEADER, Integer.toString(header.length))
        .contentType("application/octet-stream");
    ByteArrayOutputStream body = new ByteArrayOutputStream(header.length + raw.capacity());
    body.writeBytes(header);
    body.writeBytes(raw.array());
    ctx.result(body.toByteArray());
  }

  /**
   * Every class's score of each result, by class index: the model's output (after {@code
   * --scores}). Results carry the top-k only, so this needs {@code --top} at least the classes.
   */
  private static float[][] allScores(List<ClassifyResult> results) {
    float[][] all = new float[results.size()][];
    for (int i = 0; i < results.size(); i++) {
      List<Prediction> p = results.get(i).predictions();
      float[] row = new float[p.size()];
      boolean[] seen = new boolean[p.size()];
      for (Prediction q : p) {
        if (q.index() < 0 || q.index() >= row.length || seen[q.index()]) {
          throw new ConveyorException(
              ErrorCode.BAD_REQUEST,
              "the output tensor needs every class's score, and results carry the top "
                  + p.size()
                  + ": serve with --top at least the model's number of classes");
        }
        seen[q.index()] = true;
        row[q.index()] = q.score();
      }
      all[i] = row;
    }
    return all;
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
    return ModelParam.served(ctx.pathParam("name"), classify);
  }
}
