package dev.conveyor.core.worker;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.Settings;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The pipeline's one fetcher: a key with a scheme ({@code s3://bucket/key}) goes to the {@link
 * FetcherProvider} on the class path for that scheme, opened on first use; anything else is a local
 * file path.
 */
public final class Fetchers implements Fetcher, AutoCloseable {
  private final Settings settings;
  private final Fetcher files = new FileFetcher();
  private final Map<String, Fetcher> open = new ConcurrentHashMap<>();

  /**
   * @param settings {@link FetchSettings}, for the stores' fetchers
   */
  public Fetchers(Settings settings) {
    this.settings = settings;
  }

  @Override
  public byte[] fetch(String key, long maxBytes) {
    int colon = key.indexOf("://");
    if (colon <= 0 || key.startsWith("file://")) {
      return files.fetch(key.startsWith("file://") ? key.substring(7) : key, maxBytes);
    }
    String scheme = key.substring(0, colon).toLowerCase(Locale.ROOT);
    return open.computeIfAbsent(scheme, this::openFor).fetch(key, maxBytes);
  }

  private Fetcher openFor(String scheme) {
    for (FetcherProvider p : ServiceLoader.load(FetcherProvider.class)) {
      if (p.schemes().contains(scheme)) {
        return p.open(settings);
      }
    }
    return (key, max) -> {
      throw new ConveyorException(
          ErrorCode.FETCH_FAILED,
          "no fetcher for "
              + scheme
              + ":// keys on this worker's class path (s3:// needs conveyor-s3)");
    };
  }

  /** Closes the stores' fetchers that were opened. */
  @Override
  public void close() {
    for (Fetcher f : open.values()) {
      if (f instanceof AutoCloseable c) {
        try {
          c.close();
        } catch (Exception e) {
          // closing on the way out: nothing to hand the error to
        }
      }
    }
    open.clear();
  }
}
