package dev.conveyor.core.fetch;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.Arguments;
import dev.conveyor.core.settings.Settings;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.ServiceLoader;

/** Finds the object store a URI names, among the {@link ObjectStoreProvider}s on the class path. */
public final class ObjectStores {
  private ObjectStores() {}

  /**
   * Opens the store at {@code uri}'s bucket and prefix.
   *
   * @param settings {@link FetchSettings}
   * @throws ConveyorException {@code INVALID_SETTING} for an unknown scheme or a bad address
   */
  public static ObjectStore open(String uri, Settings settings) {
    int colon = uri.indexOf("://");
    String scheme = colon <= 0 ? "" : uri.substring(0, colon).toLowerCase(Locale.ROOT);
    List<String> examples = new ArrayList<>();
    for (ObjectStoreProvider p : ServiceLoader.load(ObjectStoreProvider.class)) {
      if (p.schemes().contains(scheme)) {
        return p.open(uri, settings);
      }
      examples.add(p.example());
    }
    throw new ConveyorException(
        ErrorCode.INVALID_SETTING,
        "no object store for '"
            + Arguments.redact(uri)
            + "'; use "
            + (examples.isEmpty()
                ? "(no object store module on the class path)"
                : String.join(" or ", examples)));
  }
}
