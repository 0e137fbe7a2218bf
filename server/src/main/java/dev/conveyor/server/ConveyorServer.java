package dev.conveyor.server;

import dev.conveyor.core.Json;
import dev.conveyor.core.worker.WorkerEvents;
import io.javalin.Javalin;
import io.javalin.config.SizeUnit;
import io.javalin.event.HandlerMetaInfo;
import io.javalin.http.Header;
import io.javalin.http.staticfiles.Location;
import io.javalin.json.JavalinJackson;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.server.ConnectionLimit;

/**
 * Conveyor's HTTP API and web page: seed 003's {@code POST /predict} and {@code POST /v1/classify}
 * ({@link ClassifyEndpoints}), asynchronous jobs ({@link JobEndpoints}), the KServe v2 protocol
 * ({@link KServeV2}), and the page at {@code /} with the data it and monitoring read ({@link
 * PageEndpoints}). This class only wires them: errors are answered by {@link HttpErrors} with the
 * statuses of {@link HttpStatus}, the token is checked by {@link TokenAuth} on every route not
 * registered {@link Access#PUBLIC}, and what happens in the pipeline reaches the dashboard and the
 * metrics through one {@link WorkerEvents}. Before any of it, every answer gets the headers of
 * {@link ResponseHeaders}, and a request naming a host the server does not answer for is refused by
 * {@link AllowedHosts}; errors Jetty answers itself are {@link ErrorPages}.
 */
public final class ConveyorServer implements AutoCloseable {
  static final String VERSION = "0.1.0";

  /** A route as the router registered it. */
  record Route(String method, String path, boolean isPublic) {}

  private final ServerConfig config;
  private final Javalin app;
  private final Dashboard dashboard;
  private final Deadlines deadlines;
  private final StoredResults stored;
  private final List<Route> routes = new ArrayList<>();

  public ConveyorServer(ServerConfig config, Classify classify) {
    this(config, classify, null);
  }

  /** Connections held at once: one per 64 KB of a quarter of the heap, from 256 to 16,384. */
  static int maxConnections() {
    long quarter = Runtime.getRuntime().maxMemory() / 4;
    return (int) Math.max(256, Math.min(16_384, quarter / (64 * 1024)));
  }

  /**
   * @param stored a store the dashboard follows for results of workers anywhere, or {@code null};
   *     closed with the server
   */
  public ConveyorServer(ServerConfig config, Classify classify, StoredResults stored) {
    this.config = config;
    this.stored = stored;
    this.dashboard = new Dashboard(classify);
    this.deadlines = new Deadlines(config.resultTimeout());
    ServerMetrics metrics =
        new ServerMetrics(classify.model(), classify::queueDepth, classify::serves);
    WorkerEvents events = new WorkerEvents().add(dashboard).add(metrics);
    classify.onBatch(events);
    this.app =
        Javalin.create(
            c -> {
              c.showJavalinBanner = false;
              c.http.maxRequestSize = config.maxRequestBytes();
              // bounded memory under any number of callers: each connection's parser keeps no
              // header cache (a 64 KB table by default, the largest part of an idle connection),
              // and past a number of connections in proportion to the heap Jetty stops accepting,
              // so that callers beyond it wait in the kernel's backlog, holding nothing here
              c.jetty.modifyHttpConfiguration(h -> h.setHeaderCacheSize(0));
              // a body sent a byte at a time would hold its connection and thread for as long as
              // its sender likes: below this rate, reading it fails (400) and the connection closes
              c.jetty.modifyHttpConfiguration(h -> h.setMinRequestDataRate(config.minDataRate()));
              // (at the limit, idle connections are closed after a second, so that callers
              // keeping connections open for later cannot starve those waiting to connect)
              c.jetty.modifyServer(
                  server -> {
                    ConnectionLimit limit = new ConnectionLimit(maxConnections(), server);
                    limit.setIdleTimeout(1000);
                    server.addBean(limit);
                  });
              // multipart uploads are parsed within the same limit, as they arrive
              c.jetty.multipartConfig.maxFileSize(config.maxRequestBytes(), SizeUnit.BYTES);
              c.jetty.multipartConfig.maxTotalRequestSize(config.maxRequestBytes(), SizeUnit.BYTES);
              c.jetty.defaultHost = config.bind();
              c.jsonMapper(new JavalinJackson(Json.mapper(), false));
              c.staticFiles.add("/web", Location.CLASSPATH, Set.of(Access.PUBLIC));
              // what enableWebjars() adds, but public
              c.staticFiles.add(
                  files -> {
                    files.directory = "META-INF/resources/webjars";
                    files.headers = Map.of(Header.CACHE_CONTROL, "max-age=31622400");
                    files.roles = Set.of(Access.PUBLIC);
                  });
              c.events.handlerAdded(this::registered);
              // in this order: every answer carries the headers, then a request naming another
              // host is refused before anything else reads it
              ResponseHeaders.register(c);
              AllowedHosts.of(config.allowedHosts(), config.bind()).register(c);
              CanonicalPaths.register(c);
              ErrorPages.register(c);
              if (config.tls() != null) {
                c.registerPlugin(Https.plugin(config));
              }
            });
    Front front = new Front(classify, events, config.resultTimeout(), deadlines);
    Uploads uploads =
        new Uploads(config.maxRequestBytes(), Uploads.defaultBudget(config.maxRequestBytes()));
    app.after(uploads::release);
    Async async = new Async(app.jettyServer().threadPool());
    TokenAuth.register(app, config.token());
    RequestMetrics.register(app, metrics);
    HttpErrors.register(app);
    new ClassifyEndpoints(front, uploads, async).register(app);
    new JobEndpoints(front, uploads, async, config).register(app);
    new KServeV2(classify, front, async, uploads).register(app);
    classify.repository().ifPresent(models -> new RepositoryEndpoints(models).register(app));
    new PageEndpoints(classify, dashboard, metrics, stored, config.token() != null).register(app);
  }

  public ConveyorServer start() {
    if (stored != null) {
      stored.start(dashboard);
    }
    app.start(config.port());
    return this;
  }

  /** The port it listens on (the one chosen when the configured port is 0). */
  public int port() {
    return app.port();
  }

  /** Every HTTP route registered, as the router reported it: what the token check applies to. */
  List<Route> routes() {
    return List.copyOf(routes);
  }

  private void registered(HandlerMetaInfo h) {
    if (h.getHttpMethod().isHttpMethod()) {
      routes.add(
          new Route(h.getHttpMethod().name(), h.getPath(), h.getRoles().contains(Access.PUBLIC)));
    }
  }

  @Override
  public void close() {
    app.stop();
    if (stored != null) {
      stored.close();
    }
    dashboard.close();
    deadlines.close();
  }
}
