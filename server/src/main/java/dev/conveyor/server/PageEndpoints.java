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
  private final StoredResults stored;
  private final boolean tokenRequired;

  PageEndpoints(
      Classify classify,
      Dashboard dashboard,
      ServerMetrics metrics,
      StoredResults stored,
      boolean tokenRequired) {
    this.classify = classify;
    this.dashboard = dashboard;
    this.metrics = metrics;
    this.stored = stored;
    this.tokenRequired = tokenRequired;
  }

  void register(Javalin app) {
    Access.publicGet(app, "/v1/info", this::info);
    app.get("/v1/stats", ctx -> ctx.json(dashboard.stats()));
    app.get("/v1/recent", this::recent);
    app.get("/v1/recent/{number}/image", this::recentImage);
    app.get(
        "/metrics", ctx -> ctx.contentType(ServerMetrics.CONTENT_TYPE).result(metrics.scrape()));
  }

  /** What the page needs to know before it starts. */
  private void info(Context ctx) {
    ObjectNode m = Json.mapper().createObjectNode();
    m.put("name", "conveyor").put("version", ConveyorServer.VERSION);
    m.put("model", classify.model()).put("transport", classify.transport());
    m.put("top", classify.top()).put("token_required", tokenRequired);
    m.put("results_from", stored == null ? null : stored.describe());
    ctx.json(m);
  }

  /**
   * The latest results, newest first, each with the address of its image when it was kept or can be
   * fetched from its store.
   */
  private void recent(Context ctx) {
    ObjectNode body = Json.mapper().createObjectNode();
    ArrayNode results = body.putArray("results");
    for (Dashboard.Recent r : dashboard.recent()) {
      ObjectNode m = Json.mapper().valueToTree(r.result());
      m.put("time_ms", r.timeMs());
      boolean image = r.image() != null || (stored != null && StoredResults.fetchable(r.result()));
      m.put("image", image ? "/v1/recent/" + r.number() + "/image" : null);
      results.add(m);
    }
    ctx.json(body);
  }

  /**
   * A recent result's image, as {@link GalleryImages} allows: with the type its bytes say, in a
   * sandbox; 404 for one that is not kept or not such an image.
   */
  private void recentImage(Context ctx) {
    Dashboard.Recent r;
    try {
      r = dashboard.recent(Long.parseLong(ctx.pathParam("number")));
    } catch (NumberFormatException e) {
      r = null;
    }
    if (r == null) {
      throw new ConveyorException(
          ErrorCode.NOT_FOUND, "that image is no longer among the recent ones");
    }
    if (r.image() == null && stored == null) {
      throw new ConveyorException(ErrorCode.NOT_FOUND, GalleryImages.NOT_KEPT);
    }
    byte[] bytes = r.image() != null ? r.image() : stored.image(r.result()).bytes();
    String type = GalleryImages.contentType(bytes);
    if (type == null) {
      throw new ConveyorException(ErrorCode.NOT_FOUND, GalleryImages.NOT_SERVED);
    }
    ctx.contentType(type)
        .header("Cache-Control", "private, max-age=3600")
        .header("Content-Security-Policy", ResponseHeaders.IMAGE_POLICY)
        .result(bytes);
  }
}
