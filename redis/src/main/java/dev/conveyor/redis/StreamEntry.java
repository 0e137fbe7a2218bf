package dev.conveyor.redis;

import dev.conveyor.core.ImageRequest;
import java.util.Map;

/**
 * An entry of a request stream as a consumer group handed it out: its id in the stream and the
 * fields it carries, read as a request on demand. An entry deleted from the stream (trimmed) while
 * it was pending is handed out with no fields.
 */
public final class StreamEntry {
  private final String stream;
  private final String id;
  private final Map<byte[], byte[]> body;

  StreamEntry(String stream, String id, Map<byte[], byte[]> body) {
    this.stream = stream;
    this.id = id;
    this.body = body;
  }

  /** The entry's id in the stream ({@code 1700000000000-0}): what acknowledging it takes. */
  public String id() {
    return id;
  }

  /** Whether the entry was deleted from the stream while pending: nothing left to classify. */
  public boolean deleted() {
    return body == null || body.isEmpty();
  }

  /**
   * The request the entry carries; for an entry that is not a request, one that says why ({@link
   * RequestCodec#fromEntry}), to be answered with a {@code BAD_REQUEST} result.
   */
  public ImageRequest request() {
    return RequestCodec.fromEntry(stream, id, body);
  }

  /**
   * The request the entry carries, as the worker reads it ({@link RedisConfig#typed}).
   *
   * @throws IllegalArgumentException saying what is wrong with the entry
   */
  ImageRequest request(RedisConfig address) {
    return address.typed(RequestCodec.fromFields(body));
  }
}
