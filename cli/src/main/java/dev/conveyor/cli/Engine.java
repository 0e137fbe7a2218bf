package dev.conveyor.cli;

import dev.conveyor.core.classify.Labels;
import dev.conveyor.core.classify.ModelSpec;
import dev.conveyor.core.classify.TopK;
import dev.conveyor.core.image.ImageDecoder;
import dev.conveyor.core.image.ImageLimits;
import dev.conveyor.core.preprocess.Preprocessing;
import dev.conveyor.core.preprocess.Preprocessor;
import dev.conveyor.core.transport.EmbeddedTransport;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Transport;
import dev.conveyor.core.worker.FileFetcher;
import dev.conveyor.core.worker.Worker;
import dev.conveyor.onnx.OnnxClassifier;
import dev.conveyor.onnx.OnnxOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.ParameterException;

/**
 * A loaded model with the preprocessing fitted to it: what every command that classifies starts
 * from. It can start a worker on the embedded transport.
 */
final class Engine implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Engine.class);
  static final String DEFAULT_MODEL = "models/fashion-mnist.onnx";

  final OnnxClassifier classifier;
  final Preprocessor preprocessor;
  final TopK topK;

  private Engine(OnnxClassifier classifier, Preprocessor preprocessor, TopK topK) {
    this.classifier = classifier;
    this.preprocessor = preprocessor;
    this.topK = topK;
  }

  /**
   * Loads the model and fits preprocessing to it.
   *
   * @throws ParameterException for settings that cannot work, so the user sees usage help
   */
  static Engine load(ModelOptions options, picocli.CommandLine cmd) {
    Path model = options.model != null ? options.model : defaultModel();
    if (!Files.isRegularFile(model)) {
      String hint =
          options.model != null
              ? "no model file at " + model
              : "no --model given and the default model " + model + " is not there";
      throw new ParameterException(cmd, hint + ": pass --model PATH to an .onnx file");
    }
    OnnxClassifier classifier =
        OnnxClassifier.open(
            model, new OnnxOptions(options.threads, options.threads > 0 ? 1 : 0, options.spin));
    try {
      ModelSpec spec = classifier.spec();
      Preprocessing preprocessing = preprocessing(options, spec);
      classifier.fitImageSize(
          preprocessing.channels(), preprocessing.outputHeight(), preprocessing.outputWidth());
      ImageDecoder decoder = new ImageDecoder(new ImageLimits(options.maxBytes, options.maxPixels));
      Labels labels = Labels.choose(options.labels, spec);
      LOG.info("model {}; preprocessing {}", classifier.spec(), preprocessing);
      return new Engine(
          classifier,
          new Preprocessor(preprocessing, decoder),
          new TopK(options.top, options.scores, labels));
    } catch (RuntimeException e) {
      classifier.close();
      throw e instanceof IllegalArgumentException ? new ParameterException(cmd, e.getMessage()) : e;
    }
  }

  static Path defaultModel() {
    String home = System.getProperty("conveyor.home");
    return home != null ? Path.of(home, DEFAULT_MODEL) : Path.of(DEFAULT_MODEL);
  }

  private static Preprocessing preprocessing(ModelOptions options, ModelSpec spec) {
    Map<String, String> settings = new LinkedHashMap<>();
    String preset = options.preset;
    if (preset.equalsIgnoreCase("auto")) {
      preset =
          spec.channels() == 1 && spec.height() == 28 && spec.width() == 28
              ? "fashion-mnist"
              : "imagenet";
    }
    settings.put("preset", preset);
    settings.putAll(options.overrides());
    Preprocessing chosen = Preprocessing.fromMap(settings);
    List<String> changes = new ArrayList<>();
    Preprocessing fitted =
        chosen.adaptTo(
            options.layout != null ? null : spec.layout(),
            spec.channels(),
            spec.height(),
            spec.width(),
            changes);
    for (String change : changes) {
      LOG.warn("preprocessing fitted to the model {}: {}", spec.name(), change);
    }
    return fitted;
  }

  /** Starts a worker on a new embedded transport. */
  Embedded startEmbedded(BatchOptions batch, ModelOptions model) {
    return startEmbedded(batch, model, 1);
  }

  /** Starts {@code n} workers, sharing the model, on a new embedded transport. */
  Embedded startEmbedded(BatchOptions batch, ModelOptions model, int n) {
    EmbeddedTransport transport = new EmbeddedTransport(batch.queue, 3);
    List<Worker> workers = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      workers.add(startWorker(transport, transport, batch, model));
    }
    return new Embedded(transport, workers);
  }

  /** Starts {@code n} workers on a broker, each with its own connections. */
  Running startWorkers(Brokers.Endpoint broker, int n, BatchOptions batch, ModelOptions model) {
    List<Worker> workers = new ArrayList<>();
    List<AutoCloseable> open = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Transport transport = broker.transport(batch.batch);
      ResultSink sink = broker.sink();
      open.add(sink);
      open.add(transport);
      Worker worker = startWorker(transport, sink, batch, model);
      open.add(worker);
      workers.add(worker);
    }
    return new Running(workers, open);
  }

  /** Starts a worker taking from {@code transport} and delivering to {@code sink}. */
  Worker startWorker(Transport transport, ResultSink sink, BatchOptions batch, ModelOptions model) {
    return new Worker(
            batch.workerConfig(model),
            classifier,
            preprocessor,
            topK,
            transport,
            sink,
            new FileFetcher())
        .start();
  }

  /** Running workers and the in-memory transport that feeds them. */
  record Embedded(EmbeddedTransport transport, List<Worker> workers) implements AutoCloseable {
    Worker worker() {
      return workers.get(0);
    }

    @Override
    public void close() {
      workers.forEach(Worker::close);
      transport.close();
    }
  }

  /** Workers on a broker and their connections, closed in the reverse order of opening. */
  record Running(List<Worker> workers, List<AutoCloseable> open) implements AutoCloseable {
    @Override
    public void close() {
      closeAll(open);
    }
  }

  /** Closes each, last opened first, carrying on past failures (logged). */
  static void closeAll(List<AutoCloseable> open) {
    for (int i = open.size() - 1; i >= 0; i--) {
      try {
        open.get(i).close();
      } catch (Exception e) {
        LOG.warn("stopping: {}", e.toString());
      }
    }
  }

  @Override
  public void close() {
    classifier.close();
  }
}
