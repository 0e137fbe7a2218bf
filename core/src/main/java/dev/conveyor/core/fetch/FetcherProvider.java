package dev.conveyor.core.fetch;

import dev.conveyor.core.settings.Settings;
import java.util.List;

/**
 * Fetches images that requests refer to by a URI of its schemes ({@code s3://bucket/key}). Each
 * store module ships one, listed in {@code
 * META-INF/services/dev.conveyor.core.fetch.FetcherProvider}; {@link Fetchers} finds it there, so
 * the pipeline never names a store.
 */
public interface FetcherProvider {

  /** The URI schemes it fetches, without {@code ://}: {@code s3}. */
  List<String> schemes();

  /**
   * Opens a fetcher; it may be shared by threads, and holds its clients until closed.
   *
   * @param settings {@link FetchSettings}
   */
  Fetcher open(Settings settings);
}
