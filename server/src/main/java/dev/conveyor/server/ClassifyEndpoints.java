package dev.conveyor.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.util.List;

/**
 * Classifying while the caller waits: seed 003's {@code POST /predict} and {@code POST
 * /v1/classify} for one or several images; {@code ?model=NAME} names the model (by default the
 * server's).
 */
final class ClassifyEndpoints {
  private final Front front;
  private final Uploads uploads;
  private final Async async;

  ClassifyEndpoints(Front front, Uploads uploads, Async async) {
    this.front = front;
    this.uploads = uploads;
    this.async = async;
  }

  void register(Javalin app) {
    app.post("/predict", this::predict);
    app.post("/v1/classify", this::classify);
  }

  /** Seed 003's form: {@code -F image=@file} → {@code {"success":true,"predictions":[...]}}. */
  private void predict(Context ctx) {
    String model = front.model(ctx);
    ImageRequest request = uploads.field(ctx, "image");
    if (request == null) {
      throw new ConveyorException(
          ErrorCode.BAD_REQUEST,
          "send the image as multipart form field 'image': curl -F image=@photo.jpg …/predict");
    }
    request = request.withModel(model);
    async.answer(
        ctx,
        front.classify(request),
        result -> {
          if (!result.isOk()) {
            throw HttpErrors.fromResult(result);
          }
          ObjectNode body = Json.mapper().createObjectNode();
          body.put("success", true);
          ArrayNode predictions = body.putArray("predictions");
          for (Prediction p : result.predictions()) {
            predictions.addObject().put("label", p.label()).put("probability", p.score());
          }
          ctx.json(body);
        });
  }

  /** One or several images, multipart (any field names) or one raw body → classify's JSON. */
  private void classify(Context ctx) {
    String model = front.model(ctx);
    List<ImageRequest> requests = ModelParam.naming(uploads.all(ctx), model);
    async.answer(
        ctx,
        front.classifyAll(requests),
        results -> {
          if (results.size() > 1) {
            ctx.json(results);
            return;
          }
          ClassifyResult only = results.get(0);
          if (!only.isOk()) {
            ctx.status(HttpStatus.of(only.error().code()));
          }
          ctx.json(only);
        });
  }
}
