package dev.conveyor.flink;

import dev.conveyor.core.ImageRequest;

/**
 * A request as a source hands it to the job.
 *
 * @param request the request
 * @param entry the Redis stream entry id that the sink acknowledges once it has stored the
 *     request's result (a Redis stream source without checkpoints); {@code null} when the source
 *     commits on its own, at checkpoints, or has nothing to commit
 */
public record Incoming(ImageRequest request, String entry) {
  /** A request that leaves nothing for the sink to acknowledge. */
  public static Incoming of(ImageRequest request) {
    return new Incoming(request, null);
  }
}
