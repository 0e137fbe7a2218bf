package dev.conveyor.cli;

import dev.conveyor.assembly.LocalWorkers;
import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.Pipelines;
import dev.conveyor.core.fetch.Fetchers;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.worker.Worker;
import dev.conveyor.server.BrokerClassify;
import dev.conveyor.server.Classify;
import dev.conveyor.server.ConveyorServer;
import dev.conveyor.server.EmbeddedClassify;
import dev.conveyor.server.ServerConfig;
import dev.conveyor.server.ServerSettings;
import dev.conveyor.server.StoredResults;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code conveyor serve}: the HTTP API and web page, over workers in this process on the embedded
 * transport, or over a broker that workers anywhere take requests from.
 */
@Command(
    name = "serve",
    header = "Serve the HTTP API and web page: POST an image, get its classes.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Starts the HTTP server with workers in this process and the bundled model. Open "
          + "http://127.0.0.1:8080/ for the web page and live dashboard, or:",
      "  curl -F image=@photo.png http://127.0.0.1:8080/predict",
      "  curl -F a=@one.png -F b=@two.png http://127.0.0.1:8080/v1/classify",
      "  curl -H 'Content-Type: image/png' --data-binary @photo.png \\",
      "       http://127.0.0.1:8080/v1/jobs             (then GET /v1/jobs/ID)",
      "  curl http://127.0.0.1:8080/v2/models/fashion-mnist   (KServe v2; …/infer)",
      "  curl http://127.0.0.1:8080/metrics                   (Prometheus)",
      "With --transport redis://…, kafka://… or postgresql://… each request goes through "
          + "the broker, answered once a worker (`conveyor worker`, anywhere) has stored its "
          + "result. When --queue requests wait, more get 429 with Retry-After. With --sink URI "
          + "(or --dashboard-from URI) the dashboard also shows the results workers anywhere "
          + "store there: seed 004's UI over a PostgreSQL results table. Stops on SIGTERM or "
          + "Ctrl-C.",
      "",
    })
final class ServeCommand implements Callable<Integer>, SettingOptions.Taking {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--transport",
      paramLabel = "URI",
      defaultValue = "embedded",
      description =
          "Where requests go: embedded (workers in this process),"
              + " redis://host:port?mode=list|stream|pubsub, kafka://host:port?topic=…,"
              + " postgresql://host/db?table=…,"
              + " the URI `conveyor worker --from` takes. Default: ${DEFAULT-VALUE}.")
  String transport;

  @Option(
      names = "--workers",
      paramLabel = "N",
      description =
          "Workers in this process, sharing the model. Default: 1 on the embedded transport,"
              + " 0 with a broker (run `conveyor worker` instead, or as well).")
  Integer workers;

  @Override
  public SettingGroup[] settings() {
    return new SettingGroup[] {
      ServerSettings.SERVER_SETTINGS,
      PipelineSettings.MODEL_SETTINGS,
      PipelineSettings.FETCH_SETTINGS,
      PipelineSettings.BATCH_SETTINGS,
      PipelineSettings.RESULT_SETTINGS
    };
  }

  @Override
  public Integer call() throws Exception {
    boolean embedded = transport.equalsIgnoreCase("embedded");
    int n = workers != null ? workers : embedded ? 1 : 0;
    if (n < 0 || (embedded && n < 1)) {
      throw new ParameterException(
          spec.commandLine(),
          "--workers must be at least 1 on the embedded transport, 0 or more with a broker");
    }
    Settings settings = CommandSettings.read(spec, CommandSettings.WORKING);
    Broker broker = embedded ? null : CommandSettings.broker(spec, transport, Map.of());
    Settings serverSettings = CommandSettings.read(spec, ServerSettings.SERVER_SETTINGS);
    ServerConfig config =
        CommandSettings.usage(
            spec,
            () -> ServerSettings.config(serverSettings, settings.get(PipelineSettings.MAX_BYTES)));
    if (serverSettings.has(ServerSettings.TOKEN)) {
      CommandLineSecrets.warn(
          spec, "a token", "--token-file FILE or the CONVEYOR_TOKEN environment variable");
    }
    String follow = serverSettings.get(ServerSettings.DASHBOARD_FROM);
    if (follow == null) {
      follow = settings.get(PipelineSettings.SINK);
    }
    List<AutoCloseable> open = new ArrayList<>();
    try {
      Classify classify =
          embedded ? embedded(settings, n, open) : throughBroker(settings, broker, n, config, open);
      StoredResults stored = follow == null ? null : stored(follow, settings, open);
      ConveyorServer server = new ConveyorServer(config, classify, stored).start();
      open.add(server);
      spec.commandLine()
          .getErr()
          .printf(
              "conveyor serve: %s://%s:%d/ (model %s, %s, %d worker(s) in this process)%n",
              config.tls() != null ? "https" : "http",
              config.bind(),
              server.port(),
              classify.model(),
              classify.transport(),
              n);
      spec.commandLine().getErr().flush();
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime()
          .addShutdownHook(
              new Thread(
                  () -> {
                    LocalWorkers.closeAll(open);
                    stopped.countDown();
                  },
                  "conveyor-shutdown"));
      stopped.await();
      return 0;
    } catch (RuntimeException e) {
      LocalWorkers.closeAll(open);
      throw e;
    }
  }

  /** The results store the dashboard follows, and a fetcher of its results' images. */
  private StoredResults stored(String uri, Settings settings, List<AutoCloseable> open) {
    Broker store = CommandSettings.broker(spec, uri, Map.of());
    Fetchers images = new Fetchers(settings);
    open.add(images);
    return new StoredResults(
        store.results(), images, settings.get(PipelineSettings.MAX_BYTES), store.describe());
  }

  /** Workers in this process on the in-memory transport. */
  private Classify embedded(Settings settings, int n, List<AutoCloseable> open) {
    Pipeline pipeline = CommandSettings.open(spec, settings);
    open.add(pipeline);
    LocalWorkers running = LocalWorkers.embedded(pipeline, settings, n);
    open.add(running);
    return new EmbeddedClassify(
        running.embedded(),
        running.workers(),
        pipeline.model().name(),
        settings.get(PipelineSettings.TOP),
        pipeline.preprocessor().spec().shape());
  }

  /** A front for workers anywhere; with {@code n > 0}, some of them in this process. */
  private Classify throughBroker(
      Settings settings, Broker broker, int n, ServerConfig config, List<AutoCloseable> open) {
    // with no workers here the model is not loaded: it is named by its file
    String name = Pipelines.modelName(settings);
    List<Worker> local = List.of();
    int[] shape = null;
    if (n > 0) {
      Pipeline pipeline = CommandSettings.open(spec, settings);
      open.add(pipeline);
      LocalWorkers running = LocalWorkers.onBroker(pipeline, broker, settings, n);
      open.add(running);
      local = running.workers();
      name = pipeline.model().name();
      shape = pipeline.preprocessor().spec().shape();
    }
    BrokerClassify through =
        new BrokerClassify(
            broker.client(),
            broker.describe(),
            name,
            settings.get(PipelineSettings.TOP),
            settings.get(PipelineSettings.QUEUE),
            config.resultTimeout().plusSeconds(5),
            local,
            shape);
    open.add(through);
    return through;
  }
}
