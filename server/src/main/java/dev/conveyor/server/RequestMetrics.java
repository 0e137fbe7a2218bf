package dev.conveyor.server;

import io.javalin.Javalin;
import io.javalin.http.Context;

/**
 * Times every API request and counts it by route and status in {@link ServerMetrics}: everything
 * under {@code /v1/}, {@code /v2} and {@code /predict}, answered or refused, but not the page's
 * files nor the scrapes of {@code /metrics} itself.
 */
final class RequestMetrics {
  private static final String START = "conveyor.start";

  private final ServerMetrics metrics;

  private RequestMetrics(ServerMetrics metrics) {
    this.metrics = metrics;
  }

  static void register(Javalin app, ServerMetrics metrics) {
    RequestMetrics r = new RequestMetrics(metrics);
    app.before(ctx -> ctx.attribute(START, System.nanoTime()));
    app.after(r::record);
  }

  private void record(Context ctx) {
    Long start = ctx.attribute(START);
    if (start == null || !isApi(ctx.path())) {
      return;
    }
    metrics.http(endpoint(ctx), ctx.statusCode(), System.nanoTime() - start);
  }

  private static boolean isApi(String path) {
    return path.startsWith("/v1/") || path.startsWith("/v2") || path.startsWith("/predict");
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
}
