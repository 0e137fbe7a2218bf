package dev.conveyor.server;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.Prediction;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.UploadedFile;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Conveyor's HTTP API and web page: seed 003's {@code POST /predict}, {@code POST /v1/classify} for
 * one or several images, asynchronous jobs, the KServe v2 protocol, Prometheus metrics at {@code
 * /metrics}, and the page at {@code /} with its dashboard data ({@code /v1/stats}, {@code
 * /v1/recent}). Every error is JSON with a message and the status that says what happened: 400
 * undecodable image, 401 missing token, 413 too large, 415 not an image, 429 (with {@code
 * Retry-After}) when the pipeline is full, 504 when a result does not come in time.
 */
public final class ConveyorServer implements AutoCloseable {
  static final String VERSION = "0.1.0";

  private static final String START = "conveyor.start";

  private final ServerConfig config;
  private final Classify classify;
  private final Javalin app;
  private final Jobs jobs = new Jobs(10_000, Duration.ofHours(1));
  private final Dashboard dashboard;
  private final ServerMetrics metrics;

  public ConveyorServer(ServerConfig config, Classify classify) {
    this.config = config;
    this.classify = classify;
    this.dashboard = new Dashboard(classify);
    this.metrics = new ServerMetrics(classify.model(), classify::queueDepth, dashboard::inFlight);
    classify.onBatch(
        new dev.conveyor.core.pipeline.PipelineListener() {
          @Override
          public void batch(int images, long nanos) {
            dashboard.batch(images);
            metrics.batch(images, nanos);
          }
        });
    KServeV2 kserve = new KServeV2(classify, this::classifyAll);
    this.app =
        Javalin.create(
            c -> {
              c.showJavalinBanner = false;
              c.http.maxRequestSize = config.maxRequestBytes();
              c.jetty.defaultHost = config.bind();
              c.jsonMapper(new JavalinJackson(Json.mapper(), false));
              c.staticFiles.add("/web", Location.CLASSPATH);
              c.staticFiles.enableWebjars();
            });
    app.before(this::authorize);
    app.after(this::record);
    app.post("/predict", this::predict);
    app.post("/v1/classify", this::classifyImages);
    app.post("/v1/jobs", this::submitJob);
    app.get("/v1/jobs/{id}", this::job);
    app.get("/v1/info", this::info);
    app.get("/v1/stats", ctx -> ctx.json(dashboard.stats()));
    app.get("/v1/recent", this::recent);
    app.get("/v1/recent/{id}/image", this::recentImage);
    app.get(
        "/metrics", ctx -> ctx.contentType(ServerMetrics.CONTENT_TYPE).result(metrics.scrape()));
    app.get("/v2/health/live", ctx -> ctx.json(ordered("live", true)));
    app.get("/v2/health/ready", ctx -> ctx.json(ordered("ready", true, "model", classify.model())));
    app.get("/v2", kserve::server);
    app.get("/v2/models/{name}", kserve::model);
    app.get("/v2/models/{name}/ready", kserve::ready);
    app.post("/v2/models/{name}/infer", kserve::infer);
    app.exception(HttpError.class, (e, ctx) -> answer(ctx, e));
  }

  public ConveyorServer start() {
    app.start(config.port());
    return this;
  }

  /** The port it listens on (the one chosen when the configured port is 0). */
  public int port() {
    return app.port();
  }

  /** With a token set, everything but the page, its assets, health checks and info needs it. */
  private void authorize(Context ctx) {
    ctx.attribute(START, System.nanoTime());
    if (config.token() == null || !needsToken(ctx.path())) {
      return;
    }
    String given = ctx.header("Authorization");
    if (given == null || !given.equals("Bearer " + config.token())) {
      throw new HttpError(401, "UNAUTHORIZED", "this server needs 'Authorization: Bearer TOKEN'");
    }
  }

  /** The API: everything but the page and its files. */
  private static boolean isApi(String path) {
    return path.startsWith("/v1/")
        || path.startsWith("/v2")
        || path.equals("/predict")
        || path.equals("/metrics");
  }

  private static boolean needsToken(String path) {
    return isApi(path) && !path.startsWith("/v2/health") && !path.equals("/v1/info");
  }

  /** Counts and times every API request but the scrapes of /metrics itself. */
  private void record(Context ctx) {
    Long start = ctx.attribute(START);
    if (start == null || !isApi(ctx.path()) || ctx.path().equals("/metrics")) {
      return;
    }
    metrics.http(endpoint(ctx), ctx.statusCode(), System.nanoTime() - start);
  }

  /** The route that answered ({@code /v1/jobs/{id}}), or "unmatched": few label values. */
  private static String endpoint(Context ctx) {
    try {
      String route = ctx.endpointHandlerPath();
      // for a path no route matched, Javalin gives a sentence instead of a route
      return route != null && route.startsWith("/") ? route : "unmatched";
    } catch (RuntimeException noRoute) {
      return "unmatched";
    }
  }

  /** What the page needs to know before it starts. */
  private void info(Context ctx) {
    ctx.json(
        ordered(
            "name",
            "conveyor",
            "version",
            VERSION,
            "model",
            classify.model(),
            "transport",
            classify.transport(),
            "top",
            classify.top(),
            "token_required",
            config.token() != null));
  }

  /** The latest results, newest first, each with the address of its image when it was kept. */
  private void recent(Context ctx) {
    List<Map<String, Object>> list = new ArrayList<>();
    for (Dashboard.Recent r : dashboard.recent()) {
      Map<String, Object> m = Json.mapper().convertValue(r.result(), Map.class);
      m.put("time_ms", r.timeMs());
      m.put("image", r.image() == null ? null : "/v1/recent/" + r.result().id() + "/image");
      list.add(m);
    }
    ctx.json(ordered("results", list));
  }

  private void recentImage(Context ctx) {
    Dashboard.Recent r = dashboard.recent(ctx.pathParam("id"));
    if (r == null || r.image() == null) {
      throw new HttpError(404, "NO_SUCH_IMAGE", "that image is no longer among the recent ones");
    }
    ctx.contentType(r.contentType() != null ? r.contentType() : "application/octet-stream")
        .header("Cache-Control", "private, max-age=3600")
        .result(r.image());
  }

  /** Seed 003's form: {@code -F image=@file} → {@code {"success":true,"predictions":[...]}}. */
  private void predict(Context ctx) {
    checkSize(ctx);
    UploadedFile file = ctx.isMultipartFormData() ? ctx.uploadedFile("image") : null;
    if (file == null) {
      throw new HttpError(
          400,
          "NO_IMAGE",
          "send the image as multipart form field 'image': curl -F image=@photo.jpg …/predict");
    }
    ClassifyResult result = await(submit(request(file)));
    if (!result.isOk()) {
      throw fromResult(result);
    }
    List<Map<String, Object>> predictions = new ArrayList<>();
    for (Prediction p : result.predictions()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("label", p.label());
      m.put("probability", p.score());
      predictions.add(m);
    }
    ctx.json(ordered("success", true, "predictions", predictions));
  }

  /** One or several images, multipart (any field names) or one raw body → classify's JSON. */
  private void classifyImages(Context ctx) {
    checkSize(ctx);
    List<ImageRequest> requests = new ArrayList<>();
    if (ctx.isMultipartFormData()) {
      for (UploadedFile f : ctx.uploadedFiles()) {
        requests.add(request(f));
      }
    } else {
      requests.add(bodyRequest(ctx));
    }
    if (requests.isEmpty()) {
      throw new HttpError(400, "NO_IMAGE", "the request holds no image");
    }
    List<ClassifyResult> results = classifyAll(requests);
    if (results.size() == 1) {
      ClassifyResult only = results.get(0);
      if (!only.isOk()) {
        HttpError e = fromResult(only);
        ctx.status(e.status).json(only);
        return;
      }
      ctx.json(only);
    } else {
      ctx.json(results);
    }
  }

  /** Accepts one image and answers its job id at once (202); the result comes from GET. */
  private void submitJob(Context ctx) {
    checkSize(ctx);
    ImageRequest request;
    if (ctx.isMultipartFormData()) {
      List<UploadedFile> files = ctx.uploadedFiles();
      if (files.size() != 1) {
        throw new HttpError(
            400, "ONE_IMAGE", "a job is one image; this request holds " + files.size());
      }
      request = request(files.get(0));
    } else {
      request = bodyRequest(ctx);
    }
    CompletableFuture<ClassifyResult> result = submit(request);
    if (!jobs.add(request.id(), result)) {
      throw new HttpError(
          429, "BUSY", "too many jobs are waiting to be collected", Map.of("Retry-After", "1"));
    }
    ctx.status(202)
        .json(
            ordered("id", request.id(), "status", "pending", "result", "/v1/jobs/" + request.id()));
  }

  /** A job's result when ready (200), its state while not (202), or 404 for an unknown id. */
  private void job(Context ctx) {
    String id = ctx.pathParam("id");
    CompletableFuture<ClassifyResult> result = jobs.get(id);
    if (result == null) {
      throw new HttpError(
          404,
          "NO_SUCH_JOB",
          "no job " + id + " (unknown, or collected more than an hour after it was made)");
    }
    if (!result.isDone()) {
      ctx.status(202).json(ordered("id", id, "status", "pending"));
      return;
    }
    ctx.json(await(result));
  }

  /** One image sent as the request body, which must be typed image/* (or octet-stream). */
  private static ImageRequest bodyRequest(Context ctx) {
    String type = ctx.contentType();
    if (type == null
        || !(type.startsWith("image/") || type.startsWith("application/octet-stream"))) {
      throw new HttpError(
          415,
          "UNSUPPORTED_MEDIA_TYPE",
          "send images as multipart/form-data, or one image as the body with Content-Type image/*");
    }
    return ImageRequest.ofBytes("body", ctx.bodyAsBytes(), type);
  }

  private void checkSize(Context ctx) {
    if (ctx.contentLength() > config.maxRequestBytes()) {
      throw new HttpError(
          413,
          "TOO_LARGE",
          "the upload is %d bytes, over the limit of %d"
              .formatted(ctx.contentLength(), config.maxRequestBytes()));
    }
  }

  private static ImageRequest request(UploadedFile file) {
    try (InputStream in = file.content()) {
      return ImageRequest.ofBytes(file.filename(), in.readAllBytes(), file.contentType());
    } catch (IOException e) {
      throw new HttpError(400, "UNREADABLE", "the upload could not be read: " + e.getMessage());
    }
  }

  /** Submits all, then waits for each: the results in the requests' order. */
  private List<ClassifyResult> classifyAll(List<ImageRequest> requests) {
    List<CompletableFuture<ClassifyResult>> futures = new ArrayList<>();
    for (ImageRequest r : requests) {
      futures.add(submit(r));
    }
    List<ClassifyResult> results = new ArrayList<>();
    for (CompletableFuture<ClassifyResult> f : futures) {
      results.add(await(f));
    }
    return results;
  }

  private CompletableFuture<ClassifyResult> submit(ImageRequest request) {
    long start = System.nanoTime();
    dashboard.submitted();
    CompletableFuture<ClassifyResult> future;
    try {
      future = classify.submit(request);
    } catch (ConveyorException e) {
      dashboard.refused(e.code().name());
      metrics.refused(e.code().name());
      if (e.code() == ErrorCode.BUSY) {
        throw new HttpError(429, "BUSY", e.getMessage(), Map.of("Retry-After", "1"));
      }
      throw new HttpError(503, e.code().name(), e.getMessage());
    }
    return future.whenComplete(
        (r, failure) -> {
          if (r != null) {
            dashboard.result(request, r, System.nanoTime() - start);
            metrics.result(r, System.nanoTime() - start);
          } else {
            dashboard.refused("UNAVAILABLE");
            metrics.refused("UNAVAILABLE");
          }
        });
  }

  private ClassifyResult await(CompletableFuture<ClassifyResult> future) {
    Duration timeout = config.resultTimeout();
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      metrics.refused("TIMEOUT");
      throw new HttpError(504, "TIMEOUT", "no result within " + timeout.toSeconds() + " s");
    } catch (ExecutionException e) {
      throw new HttpError(
          503, "UNAVAILABLE", "classification stopped: " + e.getCause().getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HttpError(503, "UNAVAILABLE", "interrupted");
    }
  }

  /** The status for an error result: 413 too large, 415 not an image, 400 otherwise. */
  private static HttpError fromResult(ClassifyResult r) {
    ErrorCode code = r.error().code();
    int status =
        switch (code) {
          case TOO_LARGE -> 413;
          case UNSUPPORTED_FORMAT -> 415;
          case BUSY -> 429;
          case TIMEOUT -> 504;
          case EMPTY, CORRUPT, FETCH_FAILED -> 400;
          default -> 500;
        };
    return new HttpError(status, code.name(), r.error().message());
  }

  /** Errors as {@code {"success":false,"error":{code,message}}}; KServe's {@code {"error":…}}. */
  private static void answer(Context ctx, HttpError e) {
    e.headers.forEach(ctx::header);
    ctx.status(e.status);
    if (ctx.path().startsWith("/v2/models")) {
      ctx.json(ordered("error", e.getMessage()));
      return;
    }
    ctx.json(
        ordered("success", false, "error", ordered("code", e.code, "message", e.getMessage())));
  }

  /** A JSON object whose keys keep the order given (Map.of's order changes from run to run). */
  private static Map<String, Object> ordered(Object... keysAndValues) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
      m.put((String) keysAndValues[i], keysAndValues[i + 1]);
    }
    return m;
  }

  @Override
  public void close() {
    app.stop();
    dashboard.close();
  }
}
