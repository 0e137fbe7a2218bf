package dev.conveyor.core.transport;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import java.util.ArrayList;
import java.util.List;

/**
 * Results made elsewhere (by an engine's tasks, as the JSON every path writes, with the request's
 * reply address), stored in a broker's {@link ResultSink} in groups, as {@code worker} stores its
 * own. Not thread-safe: one per writer or partition.
 */
public final class ResultBuffer implements AutoCloseable {
  private final ResultSink sink;
  private final int group;
  private final List<ImageRequest> requests = new ArrayList<>();
  private final List<ClassifyResult> results = new ArrayList<>();

  /**
   * @param group how many results are stored at once
   */
  public ResultBuffer(ResultSink sink, int group) {
    if (group < 1) {
      throw new IllegalArgumentException("group must be at least 1");
    }
    this.sink = sink;
    this.group = group;
  }

  /**
   * Adds a result; stores the group once it is full.
   *
   * @param replyTo the request's reply address, or {@code null}
   * @throws Exception as {@link ResultSink#deliver}: none of the group is stored
   */
  public void add(String id, String replyTo, String json) throws Exception {
    requests.add(new ImageRequest(id, id, null, null, replyTo, 0));
    results.add(Json.read(json, ClassifyResult.class));
    if (results.size() >= group) {
      flush();
    }
  }

  /** Stores what it holds. */
  public void flush() throws Exception {
    if (results.isEmpty()) {
      return;
    }
    sink.deliver(requests, results);
    requests.clear();
    results.clear();
  }

  /** How many results it holds, not yet stored. */
  public int size() {
    return results.size();
  }

  /** Closes the sink; what was not flushed is not stored. */
  @Override
  public void close() {
    sink.close();
  }
}
