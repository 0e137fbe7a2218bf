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
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import org.eclipse.jetty.servlet.FilterHolder;

/**
 * Refuses (404) a path with empty, {@code .} or {@code ..} segments, plain or percent-encoded,
 * before Javalin reads it. The router matches the path as sent while the static files decode and
 * resolve it, so such a path could mean one thing to each; no route or file has one. (Javalin 6.7
 * also answers 500 when it looks up the static files' roles for such a path.)
 */
final class CanonicalPaths implements Filter {
  private CanonicalPaths() {}

  static void register(JavalinConfig c) {
    c.jetty.modifyServletContextHandler(
        h ->
            h.addFilter(
                new FilterHolder(new CanonicalPaths()), "/*", EnumSet.of(DispatcherType.REQUEST)));
  }

  @Override
  public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
      throws IOException, ServletException {
    HttpServletRequest request = (HttpServletRequest) req;
    if (isCanonical(request.getRequestURI())) {
      chain.doFilter(req, res);
      return;
    }
    HttpErrors.write(
        request,
        (HttpServletResponse) res,
        HttpStatus.of(ErrorCode.NOT_FOUND),
        ErrorCode.NOT_FOUND.name(),
        "no route or file has a path with empty, '.' or '..' segments");
  }

  /** Whether no segment of the path, decoded, is empty (but a last one), "." or "..". */
  static boolean isCanonical(String rawPath) {
    String path;
    try {
      path = URLDecoder.decode(rawPath, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException badEscape) {
      return false;
    }
    String[] segments = path.split("/", -1);
    for (int i = 1; i < segments.length; i++) {
      String s = segments[i];
      boolean last = i == segments.length - 1;
      if ((s.isEmpty() && !last) || s.equals(".") || s.equals("..")) {
        return false;
      }
    }
    return true;
  }
}
