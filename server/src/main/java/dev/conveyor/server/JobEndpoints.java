package dev.conveyor.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Asynchronous jobs: {@code POST /v1/jobs} answers an id at once (202), {@code GET /v1/jobs/{id}}
 * the result when it is ready.
 */
final class JobEndpoints {
  private final Front front;
  private final Uploads uploads;
  private final Async async;
  private final Jobs jobs;
  private final Duration expiry;

  JobEndpoints(Front front, Uploads uploads, Async async, ServerConfig config) {
    this.front = front;
    this.uploads = uploads;
    this.async = async;
    this.jobs = new Jobs(config.jobCapacity(), config.jobExpiry());
    this.expiry = config.jobExpiry();
  }

  void register(Javalin app) {
    app.post("/v1/jobs", this::submit);
    app.get("/v1/jobs/{id}", this::job);
  }

  /** Accepts one image and answers its job id at once (202); the result comes from GET. */
  private void submit(Context ctx) {
    String model = front.model(ctx);
    ImageRequest request = uploads.one(ctx).withModel(model);
    CompletableFuture<ClassifyResult> result = front.classifyUnbounded(request);
    uploads.holdUntil(ctx, result); // the image's bytes count until the job is done
    if (!jobs.add(request.id(), result)) {
      throw new ConveyorException(ErrorCode.BUSY, "too many jobs are waiting to be collected");
    }
    ObjectNode body = Json.mapper().createObjectNode();
    body.put("id", request.id()).put("status", "pending").put("result", "/v1/jobs/" + request.id());
    ctx.status(202).json(body);
  }

  /** A job's result when ready (200), its state while not (202), or 404 for an unknown id. */
  private void job(Context ctx) {
    String id = ctx.pathParam("id");
    CompletableFuture<ClassifyResult> result = jobs.get(id);
    if (result == null) {
      throw new ConveyorException(
          ErrorCode.NOT_FOUND,
          "no such job (unknown, or collected more than %s after it was made)"
              .formatted(expiry.toString().substring(2).toLowerCase()));
    }
    if (!result.isDone()) {
      ctx.status(202).json(Json.mapper().createObjectNode().put("id", id).put("status", "pending"));
      return;
    }
    async.answer(ctx, result, ctx::json);
  }
}
