package dev.conveyor.assembly;

import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.EmbeddedTransport;
import dev.conveyor.core.transport.PositionStore;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Transport;
import dev.conveyor.core.worker.Models;
import dev.conveyor.core.worker.Worker;
import dev.conveyor.core.worker.WorkerConfig;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Workers running in this process over one pipeline, and the connections they hold: on the
 * in-memory transport ({@link #embedded}), or each with its own connections to a broker ({@link
 * #onBroker}). Closing stops the workers (they finish what they hold) and then the connections.
 */
public final class LocalWorkers implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LocalWorkers.class);

  private final EmbeddedTransport embedded;
  private final List<Worker> workers;
  private final List<AutoCloseable> open;

  private LocalWorkers(EmbeddedTransport embedded, List<Worker> workers, List<AutoCloseable> open) {
    this.embedded = embedded;
    this.workers = List.copyOf(workers);
    this.open = open;
  }

  /** Starts {@code n} workers sharing the pipeline, fed by a new in-memory transport. */
  public static LocalWorkers embedded(Pipeline pipeline, Settings settings, int n) {
    return embedded(Models.of(pipeline), settings, n);
  }

  /** Starts {@code n} workers sharing the models, fed by a new in-memory transport. */
  public static LocalWorkers embedded(Models models, Settings settings, int n) {
    EmbeddedTransport transport =
        new EmbeddedTransport(
            settings.get(PipelineSettings.QUEUE), settings.get(PipelineSettings.MAX_DELIVERIES));
    List<AutoCloseable> open = new ArrayList<>(List.of(transport));
    List<Worker> workers = new ArrayList<>();
    WorkerConfig config = Pipelines.workerConfig(settings);
    for (int i = 0; i < n; i++) {
      ResultSink sink = alsoTo(settings, transport, open);
      Worker w = new Worker(config, models, transport, sink).start();
      workers.add(w);
      open.add(w);
    }
    return new LocalWorkers(transport, workers, open);
  }

  /** Starts {@code n} workers sharing the pipeline, each with its own connections to the broker. */
  public static LocalWorkers onBroker(Pipeline pipeline, Broker broker, Settings settings, int n) {
    return onBroker(Models.of(pipeline), broker, settings, n);
  }

  /**
   * Starts {@code n} workers sharing the models (a repository's, say), each with its own
   * connections to the broker.
   */
  public static LocalWorkers onBroker(Models models, Broker broker, Settings settings, int n) {
    List<AutoCloseable> open = new ArrayList<>();
    List<Worker> workers = new ArrayList<>();
    WorkerConfig config = Pipelines.workerConfig(settings);
    try {
      for (int i = 0; i < n; i++) {
        Transport transport = broker.transport(config.batchSize());
        open.add(transport);
        ResultSink sink = sink(settings, broker, transport, open);
        Worker w = new Worker(config, models, transport, sink).start();
        open.add(w);
        workers.add(w);
      }
    } catch (RuntimeException e) {
      closeAll(open);
      throw e;
    }
    return new LocalWorkers(null, workers, open);
  }

  /**
   * Where a worker on a broker stores its results: the broker's own place, and the {@code
   * results-to} setting's when there is one. With delivery exactly once the transport stores in its
   * broker's place itself, with the acknowledgement, or in the {@code results-to} store with the
   * positions it read up to (Kafka into PostgreSQL); a {@code results-to} store it cannot settle in
   * is written besides, at least once.
   */
  private static ResultSink sink(
      Settings settings, Broker broker, Transport transport, List<AutoCloseable> open) {
    String uri = settings.get(PipelineSettings.RESULTS_TO);
    ResultSink extra = uri == null ? null : Brokers.open(uri).sink();
    if (extra != null) {
      open.add(extra);
    }
    ResultSink none = (requests, results) -> {};
    if (transport.exactlyOnce().isPresent()) {
      if (extra instanceof PositionStore store && transport.storeIn(store)) {
        LOG.info(
            "{}: each batch's results and offsets stored in one transaction of results-to",
            transport.describe());
        return none;
      }
      return extra == null ? none : extra;
    }
    ResultSink own = broker.sink();
    open.add(own);
    return extra == null ? own : ResultSink.both(own, extra);
  }

  /** The transport's own sink, and the {@code results-to} setting's when there is one. */
  private static ResultSink alsoTo(Settings settings, ResultSink own, List<AutoCloseable> open) {
    String uri = settings.get(PipelineSettings.RESULTS_TO);
    if (uri == null) {
      return own;
    }
    ResultSink extra = Brokers.open(uri).sink();
    open.add(extra);
    return ResultSink.both(own, extra);
  }

  /** The in-memory transport the workers take from, or {@code null} when they use a broker. */
  public EmbeddedTransport embedded() {
    return embedded;
  }

  public List<Worker> workers() {
    return workers;
  }

  @Override
  public void close() {
    closeAll(open);
  }

  /** Closes each, last opened first, carrying on past failures (logged). */
  public static void closeAll(List<? extends AutoCloseable> open) {
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception e) {
        LOG.warn("stopping: {}", e.toString());
      }
    }
  }
}
