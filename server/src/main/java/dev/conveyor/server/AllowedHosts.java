package dev.conveyor.server;

import dev.conveyor.core.ErrorCode;
import io.javalin.config.JavalinConfig;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;
import org.eclipse.jetty.servlet.FilterHolder;

/**
 * The host names the server answers for: a request whose {@code Host} (or HTTP/2 authority) names
 * another is answered 421 before anything else reads it. A page on another site that rebinds its
 * own name to 127.0.0.1 (DNS rebinding) still sends its own name, so it cannot reach a server on
 * this machine that has no token. By default a server bound to a loopback address answers for the
 * loopback names only, and one bound elsewhere for any name; {@code --allowed-hosts} replaces that.
 */
final class AllowedHosts implements Filter {
  /** The names of this machine that only its own programs use; any port. */
  static final List<String> LOOPBACK = List.of("localhost", "127.0.0.1", "::1");

  /** Any name: {@code --allowed-hosts '*'}, or the default off loopback. */
  static final String ANY = "*";

  /** The 421 answer's error code (a protocol refusal, like Jetty's own, not one of ErrorCode's). */
  static final String MISDIRECTED = ErrorCode.MISDIRECTED.name();

  private static final String LABEL = "[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?";
  private static final Pattern NAME =
      Pattern.compile(
          "(" + LABEL + "(\\." + LABEL + ")*\\.?)|(\\[?[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*\\]?)");

  /** The names allowed, normalised; {@code null} for any. */
  private final Set<String> names;

  private AllowedHosts(Set<String> names) {
    this.names = names;
  }

  /**
   * What a server bound to {@code bind} answers for.
   *
   * @param given the names of {@code --allowed-hosts}, or {@code null} for the default
   */
  static AllowedHosts of(List<String> given, String bind) {
    List<String> list = given;
    if (list == null) {
      if (!isLoopback(bind)) {
        return new AllowedHosts(null);
      }
      list = new ArrayList<>(LOOPBACK);
      list.add(bind); // 127.0.0.2 names itself too
    }
    if (list.contains(ANY)) {
      return new AllowedHosts(null);
    }
    Set<String> names = new LinkedHashSet<>();
    list.forEach(n -> names.add(normalise(n)));
    return new AllowedHosts(names);
  }

  /** Adds the filter, which must come before every filter but {@link ResponseHeaders}. */
  void register(JavalinConfig c) {
    c.jetty.modifyServletContextHandler(
        h -> h.addFilter(new FilterHolder(this), "/*", EnumSet.of(DispatcherType.REQUEST)));
  }

  /** Whether a request naming {@code host} (as Jetty read it, without the port) is answered. */
  boolean allows(String host) {
    return names == null || (host != null && names.contains(normalise(host)));
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    if (allows(req.getServerName())) {
      chain.doFilter(req, res);
      return;
    }
    // the name is the caller's: it is not repeated back
    HttpErrors.write(
        (HttpServletRequest) req,
        (HttpServletResponse) res,
        HttpStatus.of(ErrorCode.MISDIRECTED),
        MISDIRECTED,
        "this server does not answer for that host name; its --allowed-hosts setting lists those it"
            + " does");
  }

  /** The names of an {@code --allowed-hosts} value: comma-separated, or {@code *}. */
  static List<String> parse(String text) {
    if (text == null) {
      return null;
    }
    return Arrays.stream(text.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList();
  }

  /**
   * Whether {@code text} is a list of host names (or IP addresses, IPv6 with or without brackets)
   * without ports, or {@code *}.
   */
  static boolean isList(String text) {
    List<String> names = parse(text);
    return !names.isEmpty() && names.stream().allMatch(AllowedHosts::isName);
  }

  /** Whether {@code name} can be allowed: a host name or address without a port, or {@code *}. */
  static boolean isName(String name) {
    return name.equals(ANY) || NAME.matcher(name.toLowerCase(Locale.ROOT)).matches();
  }

  /** Lower case, without IPv6's brackets or a fully-qualified name's last dot. */
  static String normalise(String host) {
    String h = host.strip().toLowerCase(Locale.ROOT);
    if (h.startsWith("[") && h.endsWith("]")) {
      h = h.substring(1, h.length() - 1);
    }
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    return h;
  }

  private static boolean isLoopback(String bind) {
    try {
      return InetAddress.getByName(bind).isLoopbackAddress();
    } catch (UnknownHostException e) {
      return false; // the server cannot bind it either
    }
  }
}
