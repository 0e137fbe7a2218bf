package dev.conveyor.server;

import dev.conveyor.assembly.LocalWorkers;
import dev.conveyor.assembly.ModelLease;
import dev.conveyor.assembly.ModelSet;
import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.Pipelines;
import dev.conveyor.assembly.RepositorySettings;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fetch.Fetchers;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.worker.Models;
import dev.conveyor.core.worker.Worker;
import java.util.ArrayList;
import java.util.List;

/**
 * The HTTP server as {@code conveyor serve} runs it, assembled from settings alone: in front of
 * workers in this process on the embedded transport, or of the broker the {@code transport} setting
 * names (found by its URI scheme), which workers anywhere take requests from; its dashboard follows
 * the results store the settings name. It owns what it opened; closing stops the server, then the
 * workers, then the connections and the model, last opened first.
 */
public final class Serving implements AutoCloseable {
  /** The transport that keeps requests in this process. */
  public static final String EMBEDDED = "embedded";

  /**
   * What serving reads: the server's settings, the pipeline's, where results also go, where
   * requests travel and how many workers take them here.
   */
  public static final SettingGroup[] SETTINGS = {
    ServerSettings.SERVER_SETTINGS,
    PipelineSettings.MODEL_SETTINGS,
    PipelineSettings.FETCH_SETTINGS,
    PipelineSettings.BATCH_SETTINGS,
    PipelineSettings.RESULT_SETTINGS,
    PipelineSettings.TRANSPORT_SETTINGS,
    PipelineSettings.WORKER_SETTINGS,
    PipelineSettings.REPOSITORY_SETTINGS
  };

  private final ServerConfig config;
  private final Classify classify;
  private final List<Worker> workers;
  private final ConveyorServer server;
  private final List<AutoCloseable> open;

  private Serving(
      ServerConfig config,
      Classify classify,
      List<Worker> workers,
      ConveyorServer server,
      List<AutoCloseable> open) {
    this.config = config;
    this.classify = classify;
    this.workers = workers;
    this.server = server;
    this.open = open;
  }

  /**
   * Opens and starts everything {@code serve} runs: on the {@code transport} setting's broker, or
   * on the embedded transport; with the {@code workers} setting's workers in this process sharing
   * one model (by default 1 on the embedded transport, and 0 with a broker, the model then unloaded
   * and named by its file).
   *
   * @param settings {@link #SETTINGS}
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} naming a setting or an
   *     address that is wrong
   */
  public static Serving open(Settings settings) {
    String transport = settings.get(PipelineSettings.TRANSPORT);
    boolean embedded = transport.equalsIgnoreCase(EMBEDDED);
    int workers = workers(settings);
    Broker broker =
        embedded ? null : Brokers.open(transport, PipelineSettings.brokerOverrides(settings));
    ServerConfig config = ServerSettings.config(settings, settings.get(PipelineSettings.MAX_BYTES));
    String follow = settings.get(ServerSettings.DASHBOARD_FROM);
    if (follow == null) {
      follow = settings.get(PipelineSettings.RESULTS_TO);
    }
    List<AutoCloseable> open = new ArrayList<>();
    try {
      ModelSet repository = repository(settings, open);
      Pipeline pipeline = null;
      Models models = repository;
      if (workers > 0 && repository == null) {
        pipeline = Pipelines.open(settings);
        open.add(pipeline);
        models = Models.of(pipeline);
      }
      LocalWorkers running =
          workers == 0
              ? null
              : embedded
                  ? LocalWorkers.embedded(models, settings, workers)
                  : LocalWorkers.onBroker(models, broker, settings, workers);
      if (running != null) {
        open.add(running);
      }
      Classify classify =
          embedded
              ? embedded(running, pipeline, repository, settings)
              : throughBroker(broker, running, pipeline, repository, settings, config, open);
      if (repository != null) {
        classify = new RepositoryClassify(classify, repository);
      }
      StoredResults stored = follow == null ? null : stored(follow, settings, open);
      return start(config, classify, running, stored, open);
    } catch (RuntimeException e) {
      LocalWorkers.closeAll(open);
      throw e;
    }
  }

  /**
   * The model repository the settings name, opened with its default model, which {@code serve}
   * needs: it is the model of {@code /predict} without {@code ?model=}, of the page and of KServe's
   * server routes; null when none is named.
   */
  private static ModelSet repository(Settings settings, List<AutoCloseable> open) {
    if (settings.get(PipelineSettings.MODELS) != null
        && settings.get(PipelineSettings.DEFAULT_MODEL) == null) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "serve --models needs --default-model NAME: the model that requests naming none get");
    }
    ModelSet repository = RepositorySettings.open(settings).orElse(null);
    if (repository != null) {
      open.add(repository);
    }
    return repository;
  }

  /** The default model's name and the shape of its tensor, for the server's own routes. */
  private static int[] shape(ModelSet repository, Settings settings) {
    try (ModelLease lease = repository.lease(settings.get(PipelineSettings.DEFAULT_MODEL))) {
      return lease.pipeline().preprocessor().spec().shape();
    }
  }

  /**
   * The workers to run in this process: the setting's, by default 1 on the embedded transport and 0
   * with a broker.
   *
   * @throws ConveyorException {@code INVALID_SETTING} for none on the embedded transport
   */
  public static int workers(Settings settings) {
    boolean embedded = settings.get(PipelineSettings.TRANSPORT).equalsIgnoreCase(EMBEDDED);
    Integer given = settings.get(PipelineSettings.WORKERS);
    int n = given != null ? given : embedded ? 1 : 0;
    if (n < 0 || (embedded && n < 1)) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "--workers must be at least 1 on the embedded transport, 0 or more with a broker");
    }
    return n;
  }

  /**
   * Starts the server over {@code workers} workers on the embedded transport sharing a pipeline the
   * caller opened and keeps open (closing this does not close it); no dashboard store.
   */
  public static Serving embedded(
      ServerConfig config, Pipeline pipeline, Settings settings, int workers) {
    List<AutoCloseable> open = new ArrayList<>();
    try {
      LocalWorkers running = LocalWorkers.embedded(pipeline, settings, workers);
      open.add(running);
      return start(config, embedded(running, pipeline, settings), running, null, open);
    } catch (RuntimeException e) {
      LocalWorkers.closeAll(open);
      throw e;
    }
  }

  private static Serving start(
      ServerConfig config,
      Classify classify,
      LocalWorkers running,
      StoredResults stored,
      List<AutoCloseable> open) {
    ConveyorServer server = new ConveyorServer(config, classify, stored);
    open.add(server);
    server.start();
    return new Serving(
        config, classify, running == null ? List.of() : running.workers(), server, open);
  }

  private static Classify embedded(LocalWorkers running, Pipeline pipeline, Settings settings) {
    return embedded(running, pipeline, null, settings);
  }

  private static Classify embedded(
      LocalWorkers running, Pipeline pipeline, ModelSet repository, Settings settings) {
    return new EmbeddedClassify(
        running.embedded(),
        running.workers(),
        repository != null ? settings.get(PipelineSettings.DEFAULT_MODEL) : pipeline.model().name(),
        settings.get(PipelineSettings.TOP),
        repository != null ? shape(repository, settings) : pipeline.preprocessor().spec().shape());
  }

  /** A front for workers anywhere, some of them perhaps in this process. */
  private static Classify throughBroker(
      Broker broker,
      LocalWorkers running,
      Pipeline pipeline,
      ModelSet repository,
      Settings settings,
      ServerConfig config,
      List<AutoCloseable> open) {
    BrokerClassify through =
        new BrokerClassify(
            broker.client(),
            broker.describe(),
            // with no workers here the model is not loaded: it is named by its file
            repository != null
                ? settings.get(PipelineSettings.DEFAULT_MODEL)
                : pipeline != null ? pipeline.model().name() : Pipelines.modelName(settings),
            settings.get(PipelineSettings.TOP),
            settings.get(PipelineSettings.QUEUE),
            config.resultTimeout().plusSeconds(5),
            running != null ? running.workers() : List.of(),
            repository != null
                ? shape(repository, settings)
                : pipeline != null ? pipeline.preprocessor().spec().shape() : null);
    open.add(through);
    return through;
  }

  /** The results store the dashboard follows, and a fetcher of its results' images. */
  private static StoredResults stored(String uri, Settings settings, List<AutoCloseable> open) {
    Broker store = Brokers.open(uri);
    Fetchers images = new Fetchers(settings);
    open.add(images);
    return new StoredResults(
        store.results(), images, settings.get(PipelineSettings.MAX_BYTES), store.describe());
  }

  /** The server's configuration, as read from the settings. */
  public ServerConfig config() {
    return config;
  }

  /** What the server sends requests to: its model's name and its transport's description. */
  public Classify classify() {
    return classify;
  }

  /** The workers in this process. */
  public List<Worker> workers() {
    return workers;
  }

  /** The port it listens on (the one chosen when the configured port is 0). */
  public int port() {
    return server.port();
  }

  @Override
  public void close() {
    LocalWorkers.closeAll(open);
  }
}
