package dev.conveyor.core.settings;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A broker's URI, read once for every broker: {@code
 * scheme://[user[:password]@]hosts[/path]?settings}. The scheme is checked against the broker's,
 * the user part and path are split off and decoded, and the query is read as the broker's declared
 * settings. Errors name the broker and show the URI with its secrets hidden.
 *
 * @param scheme the scheme, lower case, without {@code ://}
 * @param base the URI without its query, as given (for clients that read it whole)
 * @param user the decoded user, or {@code null}
 * @param password the decoded password, or {@code null} when the URI has none
 * @param hosts what names the hosts: {@code host:port}, or several separated by commas
 * @param path the path without its leading {@code /}, or empty
 * @param settings the query's settings, checked against the broker's declarations
 */
public record BrokerUri(
    String scheme,
    String base,
    String user,
    String password,
    String hosts,
    String path,
    Settings settings) {

  /** What a broker's URIs look like: its name and schemes, an example, and its settings. */
  public record Kind(String name, List<String> schemes, String example, SettingGroup... groups) {
    /** Whether {@code uri} has one of these schemes. */
    public boolean handles(String uri) {
      String lower = uri.toLowerCase(Locale.ROOT);
      return schemes.stream().anyMatch(s -> lower.startsWith(s + "://"));
    }
  }

  /**
   * Reads {@code text} as a URI of this kind: {@code defaults} first, then the query's settings,
   * then {@code overrides} (options given beside the URI), each winning over the one before.
   *
   * @throws ConveyorException {@code INVALID_SETTING} naming what is wrong, never a secret
   */
  public static BrokerUri parse(
      String text, Kind kind, Map<String, String> defaults, Map<String, String> overrides) {
    if (!kind.handles(text)) {
      throw invalid(
          "not a %s URI: '%s'; expected %s".formatted(kind.name(), shown(text), kind.example()));
    }
    Arguments.Query query = Arguments.query(text);
    Settings settings = query.settings(defaults, overrides, kind.name() + " URI", kind.groups());
    String base = query.base();
    int colon = base.indexOf("://");
    String rest = base.substring(colon + 3);
    // the user part ends at the last '@': a password may hold '/' and '@' (percent-encoded or not)
    int at = rest.lastIndexOf('@');
    String user = null;
    String password = null;
    if (at >= 0) {
      String info = rest.substring(0, at);
      int split = info.indexOf(':');
      user = decode(split < 0 ? info : info.substring(0, split), kind);
      if (split >= 0 && split + 1 < info.length()) {
        password = decode(info.substring(split + 1), kind);
      }
      rest = rest.substring(at + 1);
    }
    int slash = rest.indexOf('/');
    String authority = slash < 0 ? rest : rest.substring(0, slash);
    String path = slash < 0 ? "" : rest.substring(slash + 1);
    if (authority.isBlank()) {
      throw invalid(
          "the %s URI names no host: %s; expected %s"
              .formatted(kind.name(), shown(base), kind.example()));
    }
    return new BrokerUri(
        base.substring(0, colon).toLowerCase(Locale.ROOT),
        base,
        user == null || user.isEmpty() ? null : user,
        password,
        authority,
        path,
        settings);
  }

  /** The one host's name: {@code hosts} without its port. */
  public String host() {
    return hostAndPort()[0];
  }

  /** The one host's port, or {@code defaultPort} when the URI gives none. */
  public int port(int defaultPort) {
    String port = hostAndPort()[1];
    if (port == null) {
      return defaultPort;
    }
    try {
      return Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw invalid("the URI's port is not a number: " + this);
    }
  }

  private String[] hostAndPort() {
    if (hosts.startsWith("[")) {
      int end = hosts.indexOf(']');
      String port = hosts.startsWith(":", end + 1) ? hosts.substring(end + 2) : null;
      return new String[] {hosts.substring(0, end + 1), port};
    }
    int colon = hosts.lastIndexOf(':');
    return colon < 0
        ? new String[] {hosts, null}
        : new String[] {hosts.substring(0, colon), hosts.substring(colon + 1)};
  }

  /**
   * The URI as errors and logs may show it: its user part hidden whole, secrets in its query too.
   */
  @Override
  public String toString() {
    return shown(base);
  }

  /**
   * {@code text} with everything before the last {@code @} of its address hidden, user and password
   * alike (a password may hold {@code /} or {@code @}), and its query's secrets.
   */
  static String shown(String text) {
    int colon = text.indexOf("://");
    int query = text.indexOf('?');
    String address = query < 0 ? text : text.substring(0, query);
    int at = address.lastIndexOf('@');
    String hidden =
        colon < 0 || at < colon
            ? address
            : address.substring(0, colon + 3) + "***" + address.substring(at);
    return Arguments.redact(hidden + (query < 0 ? "" : text.substring(query)));
  }

  private static String decode(String s, Kind kind) {
    try {
      return URLDecoder.decode(s, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      // the message would quote the bytes around the bad escape: a piece of the password
      throw invalid(
          "the %s URI's user or password is not percent-encoded: write %% as %%25"
              .formatted(kind.name()));
    }
  }

  private static ConveyorException invalid(String message) {
    return new ConveyorException(ErrorCode.INVALID_SETTING, message);
  }
}
