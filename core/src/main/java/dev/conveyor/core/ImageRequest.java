package dev.conveyor.core;

import java.util.Objects;
import java.util.UUID;

/**
 * One image to classify: an id, where it came from, and either its bytes or a key to fetch them by.
 *
 * @param id unique id; results carry it back
 * @param source a name for people and logs: a file path, an object key, an upload's file name
 * @param bytes the encoded image, or {@code null} when {@code source} is a key to fetch it by
 * @param contentType the MIME type if the producer knows it, else {@code null}
 * @param replyTo where the producer waits for the result (a Redis list, say), or {@code null}
 * @param enqueuedNanos {@link System#nanoTime()} when the request entered this process, for latency
 * @param model the name of the model the request asks for, or {@code null} for the one a worker
 *     serves by default; as hostile as the rest of the request, and never repeated in an error
 */
public record ImageRequest(
    String id,
    String source,
    byte[] bytes,
    String contentType,
    String replyTo,
    long enqueuedNanos,
    String model) {

  /**
   * The content type of a request made for a message its source could not read: its bytes say why,
   * and the pipeline answers it with a {@code BAD_REQUEST} result.
   */
  public static final String UNREADABLE = "application/x-conveyor-unreadable";

  public ImageRequest {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(source, "source");
  }

  /** A request for the model a worker serves by default. */
  public ImageRequest(
      String id,
      String source,
      byte[] bytes,
      String contentType,
      String replyTo,
      long enqueuedNanos) {
    this(id, source, bytes, contentType, replyTo, enqueuedNanos, null);
  }

  /** The same request, asking for the model named {@code name} ({@code null}: the default). */
  public ImageRequest withModel(String name) {
    return new ImageRequest(id, source, bytes, contentType, replyTo, enqueuedNanos, name);
  }

  /** A request carrying the image bytes, with a fresh random id. */
  public static ImageRequest ofBytes(String source, byte[] bytes, String contentType) {
    return new ImageRequest(newId(), source, bytes, contentType, null, System.nanoTime());
  }

  /** A request whose bytes are fetched by key (for example a file path) when a worker takes it. */
  public static ImageRequest ofKey(String key) {
    return new ImageRequest(newId(), key, null, null, null, System.nanoTime());
  }

  /** A request for a message that is not a request: it is answered {@code BAD_REQUEST, reason}. */
  public static ImageRequest unreadable(String id, String source, String reason) {
    return new ImageRequest(
        id,
        source,
        reason.getBytes(java.nio.charset.StandardCharsets.UTF_8),
        UNREADABLE,
        null,
        System.nanoTime());
  }

  /** Whether the bytes travel with the request, as opposed to being fetched by key. */
  public boolean hasBytes() {
    return bytes != null;
  }

  public static String newId() {
    return UUID.randomUUID().toString();
  }
}
