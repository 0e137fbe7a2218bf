package dev.conveyor.core.transport;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import java.util.List;

/** Where results go: a waiting caller, a Redis key or stream, a Kafka topic, a table. */
public interface ResultSink extends AutoCloseable {

  /**
   * Stores results. Returning normally means they are stored and their requests may be
   * acknowledged; throwing means none may be.
   *
   * @param requests the request of each result, in the same order, for routing (such as {@link
   *     ImageRequest#replyTo()})
   */
  void deliver(List<ImageRequest> requests, List<ClassifyResult> results) throws Exception;

  @Override
  default void close() {}

  /**
   * Stores each result in {@code first}, then in {@code second}: it counts as stored (and its
   * request may be acknowledged) only once both hold it. A failure of either throws, and the
   * request is delivered again, so {@code first} may see it twice. Closing it closes neither.
   */
  static ResultSink both(ResultSink first, ResultSink second) {
    return (requests, results) -> {
      first.deliver(requests, results);
      second.deliver(requests, results);
    };
  }
}
