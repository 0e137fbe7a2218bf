package dev.conveyor.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.assembly.ModelSet;
import dev.conveyor.assembly.VersionState;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import io.javalin.Javalin;
import io.javalin.http.Context;
import java.io.IOException;

/**
 * KServe v2's model repository extension, for {@code serve --models}: {@code GET} or {@code POST
 * /v2/repository/index} (every model's versions and their state here; a POST body {@code
 * {"ready":true}} keeps the ready ones), and {@code POST /v2/repository/models/{name}/load} and
 * {@code …/unload}. They act on this server's own workers; workers in other processes read the
 * repository themselves. Protected by the token, as every route that is not deliberately public.
 */
final class RepositoryEndpoints {
  private final ModelSet models;

  RepositoryEndpoints(ModelSet models) {
    this.models = models;
  }

  void register(Javalin app) {
    app.get("/v2/repository/index", ctx -> index(ctx, false));
    app.post("/v2/repository/index", ctx -> index(ctx, readyOnly(ctx)));
    app.post("/v2/repository/models/{name}/load", this::load);
    app.post("/v2/repository/models/{name}/unload", this::unload);
  }

  private void index(Context ctx, boolean readyOnly) {
    ArrayNode all = Json.mapper().createArrayNode();
    for (VersionState v : models.versionStates()) {
      if (readyOnly && !v.state().equals("READY")) {
        continue;
      }
      ObjectNode o =
          all.addObject()
              .put("name", v.name())
              .put("version", Long.toString(v.version()))
              .put("state", v.state());
      if (v.reason() != null) {
        o.put("reason", v.reason());
      }
    }
    ctx.json(all);
  }

  private static boolean readyOnly(Context ctx) {
    String body = ctx.body();
    if (body.isBlank()) {
      return false;
    }
    try {
      JsonNode node = Json.mapper().readTree(body);
      return node != null && node.path("ready").asBoolean(false);
    } catch (IOException e) {
      throw new ConveyorException(
          ErrorCode.BAD_REQUEST, "the body is not JSON: " + Json.malformed(e));
    }
  }

  private void load(Context ctx) {
    models.load(ctx.pathParam("name"));
    ctx.json(Json.mapper().createObjectNode());
  }

  private void unload(Context ctx) {
    models.unload(ctx.pathParam("name"));
    ctx.json(Json.mapper().createObjectNode());
  }
}
