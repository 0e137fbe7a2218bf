package dev.conveyor.core.transport;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.Arguments;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;

/** Finds the broker a URI names, among the {@link BrokerProvider}s on the class path. */
public final class Brokers {
  private Brokers() {}

  /** Every broker on the class path, in the order found. */
  public static List<BrokerProvider> providers() {
    List<BrokerProvider> all = new ArrayList<>();
    ServiceLoader.load(BrokerProvider.class).forEach(all::add);
    return all;
  }

  /** Whether some broker on the class path answers to the URI's scheme. */
  public static boolean handles(String uri) {
    return find(uri) != null;
  }

  public static Broker open(String uri) {
    return open(uri, Map.of());
  }

  /**
   * Reads a broker address.
   *
   * @param overrides settings given apart from the URI, which win over its query
   * @throws ConveyorException {@code INVALID_SETTING} for an unknown scheme or a bad setting
   */
  public static Broker open(String uri, Map<String, String> overrides) {
    BrokerProvider p = find(uri);
    if (p == null) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "no broker for '" + Arguments.redact(uri) + "'; use " + known());
    }
    return p.open(uri, overrides);
  }

  /** The forms of address the brokers on the class path take, for help and errors. */
  public static String known() {
    List<String> examples = new ArrayList<>();
    for (BrokerProvider p : providers()) {
      examples.add(p.example());
    }
    return examples.isEmpty()
        ? "(no broker module on the class path)"
        : String.join(" or ", examples);
  }

  private static BrokerProvider find(String uri) {
    int colon = uri.indexOf("://");
    if (colon <= 0) {
      return null;
    }
    String scheme = uri.substring(0, colon).toLowerCase(java.util.Locale.ROOT);
    for (BrokerProvider p : providers()) {
      if (p.schemes().contains(scheme)) {
        return p;
      }
    }
    return null;
  }
}
