package dev.conveyor.server;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import io.javalin.Javalin;
import io.javalin.http.Context;

/**
 * What the web page and monitoring read: {@code /v1/info} (public: the page needs it to know
 * whether to ask for the token), the dashboard's {@code /v1/stats} and {@code /v1/recent}, and
 * Prometheus's {@code /metrics}.
 */
final class PageEndpoints {
  private final Classify classify;
  private final Dashboard dashboard;
  private final ServerMetrics metrics;
  private final boolean tokenRequired;

  PageEndpoints(
      Classify classify, Dashboard dashboard, ServerMetrics metrics, boolean tokenRequired) {
    this.classify = classify;
    this.dashboard = dashboard;
    this.metrics = metrics;
    this.tokenRequired = tokenRequired;
  }

  void register(Javalin app) {
    Access.publicGet(app, "/v1/info", this::info);
    app.get("/v1/stats", ctx -> ctx.json(dashboard.stats()));
    app.get("/v1/recent", this::recent);
    app.get("/v1/recent/{id}/image", this::recentImage);
    app.get(
        "/metrics", ctx -> ctx.contentType(ServerMetrics.CONTENT_TYPE).result(metrics.scrape()));
  }

  /** What the page needs to know before it starts. */
  private void info(Context ctx) {
    ObjectNode m = Json.mapper().createObjectNode();
    m.put("name", "conveyor").put("version", ConveyorServer.VERSION);
    m.put("model", classify.model()).put("transport", classify.transport());
    m.put("top", classify.top()).put("token_required", tokenRequired);
    ctx.json(m);
  }

  /** The latest results, newest first, each with the address of its image when it was kept. */
  private void recent(Context ctx) {
    ObjectNode body = Json.mapper().createObjectNode();
    ArrayNode results = body.putArray("results");
    for (Dashboard.Recent r : dashboard.recent()) {
      ObjectNode m = Json.mapper().valueToTree(r.result());
      m.put("time_ms", r.timeMs());
      m.put("image", r.image() == null ? null : "/v1/recent/" + r.result().id() + "/image");
      results.add(m);
    }
    ctx.json(body);
  }

  private void recentImage(Context ctx) {
    Dashboard.Recent r = dashboard.recent(ctx.pathParam("id"));
    if (r == null || r.image() == null) {
      throw new ConveyorException(
          ErrorCode.NOT_FOUND, "that image is no longer among the recent ones");
    }
    ctx.contentType(r.contentType() != null ? r.contentType() : "application/octet-stream")
        .header("Cache-Control", "private, max-age=3600")
        .result(r.image());
  }
}
