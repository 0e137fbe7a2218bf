package dev.conveyor.core.transport;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Results made elsewhere (by an engine's tasks, as the JSON every path writes, with the request's
 * reply address), stored in a broker's {@link ResultSink} in groups, as {@code worker} stores its
 * own. A group is stored once it is full, once its first result has waited {@code linger} (checked
 * at each {@link #add}, and by whoever calls {@link #flushIfDue} on a timer), and on {@link
 * #flush}: a result never waits for more than its group or the linger. Not thread-safe: one per
 * writer or partition.
 *
 * <p>Each result may carry a tag (a source's entry id): once its group is stored, the tags of the
 * group go to the {@link Stored} listener, which may then acknowledge them at the source.
 */
public final class ResultBuffer implements AutoCloseable {
  /** Told the tags of each group once the sink has stored it. */
  @FunctionalInterface
  public interface Stored {
    /**
     * @param tags the non-null tags of the group's results, in order
     */
    void stored(List<String> tags) throws Exception;
  }

  private final ResultSink sink;
  private final int group;
  private final long lingerNanos;
  private final LongSupplier nanoTime;
  private final List<ImageRequest> requests = new ArrayList<>();
  private final List<ClassifyResult> results = new ArrayList<>();
  private final List<String> tags = new ArrayList<>();
  private Stored stored = t -> {};
  private long firstAdded;

  /**
   * A buffer whose results wait only for their group to fill or for {@link #flush}.
   *
   * @param group how many results are stored at once
   */
  public ResultBuffer(ResultSink sink, int group) {
    this(sink, group, null, System::nanoTime);
  }

  /**
   * @param group how many results are stored at once
   * @param linger the longest a result waits for its group to fill before the group is stored
   */
  public ResultBuffer(ResultSink sink, int group, Duration linger) {
    this(sink, group, linger, System::nanoTime);
  }

  ResultBuffer(ResultSink sink, int group, Duration linger, LongSupplier nanoTime) {
    if (group < 1) {
      throw new IllegalArgumentException("group must be at least 1");
    }
    if (linger != null && linger.isNegative()) {
      throw new IllegalArgumentException("linger must not be negative");
    }
    this.sink = sink;
    this.group = group;
    this.lingerNanos = linger == null ? Long.MAX_VALUE : linger.toNanos();
    this.nanoTime = nanoTime;
  }

  /** Sets who is told the tags of each group once it is stored; returns this buffer. */
  public ResultBuffer onStored(Stored listener) {
    this.stored = listener;
    return this;
  }

  /**
   * Adds a result; stores the group once it is full or its first result has waited the linger.
   *
   * @param replyTo the request's reply address, or {@code null}
   * @throws Exception as {@link ResultSink#deliver}: none of the group is stored
   */
  public void add(String id, String replyTo, String json) throws Exception {
    add(id, replyTo, json, null);
  }

  /**
   * Adds a result with a tag (a source's entry id, told to the {@link Stored} listener once the
   * result is stored); stores the group once it is full or its first result has waited the linger.
   *
   * @param replyTo the request's reply address, or {@code null}
   * @param tag what to tell the listener once it is stored, or {@code null}
   * @throws Exception as {@link ResultSink#deliver}: none of the group is stored
   */
  public void add(String id, String replyTo, String json, String tag) throws Exception {
    if (results.isEmpty()) {
      firstAdded = nanoTime.getAsLong();
    }
    requests.add(new ImageRequest(id, id, null, null, replyTo, 0));
    results.add(Json.read(json, ClassifyResult.class));
    tags.add(tag);
    if (results.size() >= group || due()) {
      flush();
    }
  }

  /** Whether the first result held has waited the linger. */
  public boolean due() {
    return !results.isEmpty()
        && lingerNanos != Long.MAX_VALUE
        && nanoTime.getAsLong() - firstAdded >= lingerNanos;
  }

  /**
   * Stores the group if its first result has waited the linger: what a timer calls.
   *
   * @return whether it stored anything
   */
  public boolean flushIfDue() throws Exception {
    if (!due()) {
      return false;
    }
    flush();
    return true;
  }

  /** Stores what it holds, then tells the listener the tags stored. */
  public void flush() throws Exception {
    if (results.isEmpty()) {
      return;
    }
    sink.deliver(requests, results);
    List<String> done = new ArrayList<>(tags.size());
    for (String t : tags) {
      if (t != null) {
        done.add(t);
      }
    }
    requests.clear();
    results.clear();
    tags.clear();
    if (!done.isEmpty()) {
      stored.stored(done);
    }
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
