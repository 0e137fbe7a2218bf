package dev.conveyor.server;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.fetch.Fetcher;
import dev.conveyor.core.transport.Results;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The results that workers anywhere store where this server can read them ({@code serve
 * --results-to postgresql://…}): followed into the dashboard as they are stored, so that its
 * totals, workers and gallery show work this server did not send; the gallery's images of them are
 * fetched by their source when it is an object-store key ({@code s3://…}). Local paths are never
 * served.
 */
public final class StoredResults implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StoredResults.class);

  private final Results reader;
  private final Fetcher images;
  private final long maxImageBytes;
  private final String describe;
  private volatile boolean running = true;
  private Thread follower;

  /**
   * @param reader where the results are stored; closed with this
   * @param images fetches the gallery's images by key
   * @param maxImageBytes the largest image fetched for the gallery
   * @param describe the store, for people (no password)
   */
  public StoredResults(Results reader, Fetcher images, long maxImageBytes, String describe) {
    this.reader = reader;
    this.images = images;
    this.maxImageBytes = maxImageBytes;
    this.describe = describe;
  }

  /** The store, for people. */
  String describe() {
    return describe;
  }

  /** Starts handing each stored result to the dashboard. */
  void start(Dashboard dashboard) {
    dashboard.following();
    follower =
        new Thread(
            () -> {
              while (running) {
                try {
                  reader.follow(() -> running, json -> dashboard.stored(parse(json)));
                } catch (ConveyorException e) {
                  if (e.code() == ErrorCode.INVALID_SETTING) {
                    // the store cannot be followed as it is: trying again changes nothing
                    LOG.error("cannot follow results in {}: {}", describe, e.getMessage());
                    return;
                  }
                  if (running) {
                    LOG.warn("following results in {}: {}; trying again", describe, e.getMessage());
                    pause();
                  }
                } catch (RuntimeException e) {
                  if (running) {
                    LOG.warn("following results in {}: {}; trying again", describe, e.toString());
                    pause();
                  }
                }
              }
            },
            "conveyor-stored-results");
    follower.setDaemon(true);
    follower.start();
  }

  private ClassifyResult parse(String json) {
    return Json.read(json, ClassifyResult.class);
  }

  /** Whether a result's image can be fetched for the gallery: its source is a store's key. */
  static boolean fetchable(ClassifyResult r) {
    String source = r.source();
    if (source == null) {
      return false;
    }
    int colon = source.indexOf("://");
    return colon > 0 && !source.substring(0, colon).toLowerCase(Locale.ROOT).equals("file");
  }

  /**
   * A stored result's image, fetched by its source, and its content type as its bytes say ({@link
   * GalleryImages}); what the store holds under that key is anyone's upload.
   *
   * @throws ConveyorException {@code NOT_FOUND} when the result's image is not kept, or is not an
   *     image the gallery serves
   */
  Image image(ClassifyResult r) {
    if (!fetchable(r)) {
      throw new ConveyorException(ErrorCode.NOT_FOUND, "that result's image is not kept");
    }
    byte[] bytes = images.fetch(r.source(), maxImageBytes);
    String type = GalleryImages.contentType(bytes);
    if (type == null) {
      throw new ConveyorException(ErrorCode.NOT_FOUND, GalleryImages.NOT_SERVED);
    }
    return new Image(bytes, type);
  }

  /** An image's bytes and content type. */
  record Image(byte[] bytes, String contentType) {}

  private static void pause() {
    try {
      Thread.sleep(1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    running = false;
    if (follower != null) {
      follower.interrupt();
      try {
        follower.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    reader.close();
  }
}
