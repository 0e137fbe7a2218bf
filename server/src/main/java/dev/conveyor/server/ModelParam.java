package dev.conveyor.server;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import io.javalin.http.Context;
import java.util.List;

/**
 * The model a caller names with {@code ?model=NAME} ({@code /predict}, {@code /v1/classify}, {@code
 * /v1/jobs}) or in the KServe path: none means the server's default model; a name it does not serve
 * is refused with {@code UNKNOWN_MODEL}, the name not repeated.
 */
final class ModelParam {
  private ModelParam() {}

  /** The model named by the query, or {@code null} for the default. */
  static String of(Context ctx, Classify classify) {
    String name = ctx.queryParam("model");
    return name == null || name.isEmpty() ? null : served(name, classify);
  }

  /** {@code name}, when the server serves it. */
  static String served(String name, Classify classify) {
    if (!classify.serves(name)) {
      throw new ConveyorException(
          ErrorCode.UNKNOWN_MODEL,
          "this server does not serve a model of that name; its model is '"
              + classify.model()
              + "'");
    }
    return name;
  }

  /** The requests, each naming {@code model} (nothing changes for {@code null}). */
  static List<ImageRequest> naming(List<ImageRequest> requests, String model) {
    return model == null ? requests : requests.stream().map(r -> r.withModel(model)).toList();
  }
}
