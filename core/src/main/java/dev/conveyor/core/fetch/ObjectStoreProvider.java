package dev.conveyor.core.fetch;

import dev.conveyor.core.settings.Settings;
import java.util.List;

/**
 * Makes an object store that images can be put into known by its URI schemes. Each store module
 * ships one, listed in {@code META-INF/services/dev.conveyor.core.fetch.ObjectStoreProvider};
 * {@link ObjectStores} finds it there, as {@link Fetchers} finds the same module's {@link
 * FetcherProvider}.
 */
public interface ObjectStoreProvider {

  /** The URI schemes it answers to, without {@code ://}: {@code s3}. */
  List<String> schemes();

  /** An example address, for help and error messages: {@code s3://bucket/prefix}. */
  String example();

  /**
   * Opens the store at a bucket and key prefix.
   *
   * @param settings {@link FetchSettings}: the same client settings as the workers' fetcher
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} naming what is wrong
   */
  ObjectStore open(String uri, Settings settings);
}
