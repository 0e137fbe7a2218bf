package dev.conveyor.server;

import io.javalin.config.JavalinConfig;
import jakarta.servlet.DispatcherType;
import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.EnumSet;
import org.eclipse.jetty.servlet.FilterHolder;

/**
 * The headers every response carries, set before anything else sees the request: no content-type
 * sniffing, the page's Content-Security-Policy (scripts, styles and data from this server only, no
 * inline script, no plugins, no framing), and HSTS over HTTPS. A handler may tighten the policy for
 * what it serves: the gallery's images get {@link #IMAGE_POLICY}. Errors Jetty answers itself,
 * before any filter, get the same headers from {@link ErrorPages}.
 */
final class ResponseHeaders implements Filter {
  static final String NOSNIFF = "nosniff";

  /**
   * What the page may load: its own scripts, styles and data; images also from the object URLs it
   * makes of the gallery's images and of the files dropped on it.
   */
  static final String PAGE_POLICY =
      "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none';"
          + " frame-ancestors 'none'; form-action 'none'";

  /** An image opened on its own: nothing loads, nothing runs, in an origin of its own. */
  static final String IMAGE_POLICY = "default-src 'none'; sandbox";

  /** A year of HTTPS only, once a browser has seen this server over HTTPS. */
  static final String HSTS = "max-age=31536000";

  private ResponseHeaders() {}

  /** Adds the filter; it must be the first, so that every other filter's answers carry them. */
  static void register(JavalinConfig c) {
    c.jetty.modifyServletContextHandler(
        h ->
            h.addFilter(
                new FilterHolder(new ResponseHeaders()),
                "/*",
                EnumSet.of(DispatcherType.REQUEST, DispatcherType.ERROR)));
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    HttpServletResponse response = (HttpServletResponse) res;
    response.setHeader("X-Content-Type-Options", NOSNIFF);
    response.setHeader("Content-Security-Policy", PAGE_POLICY);
    if (req.isSecure()) {
      response.setHeader("Strict-Transport-Security", HSTS);
    }
    chain.doFilter(req, res);
  }
}
