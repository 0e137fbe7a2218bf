package dev.conveyor.assembly;

import static dev.conveyor.assembly.PipelineSettings.*;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.decode.ImageDecoder;
import dev.conveyor.core.decode.ImageLimits;
import dev.conveyor.core.fetch.FetchAllow;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.fetch.Fetchers;
import dev.conveyor.core.model.Labels;
import dev.conveyor.core.model.ModelSpec;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.preprocess.PreprocessSettings;
import dev.conveyor.core.preprocess.Preprocessor;
import dev.conveyor.core.preprocess.TensorReader;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.topk.ScoreMode;
import dev.conveyor.core.topk.TopK;
import dev.conveyor.core.worker.HostName;
import dev.conveyor.core.worker.WorkerConfig;
import dev.conveyor.core.worker.WorkerSettings;
import dev.conveyor.onnx.OnnxClassifier;
import dev.conveyor.onnx.OnnxOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the classification pipeline from settings alone: loads the model, fits the preprocessing to
 * it once, and picks labels and scores. The commands, the server, the benchmarks and the engines'
 * operators all start here.
 */
public final class Pipelines {
  private static final Logger LOG = LoggerFactory.getLogger(Pipelines.class);

  /** The model used when none is given, under Conveyor's home folder. */
  public static final String DEFAULT_MODEL = "models/fashion-mnist.onnx";

  private Pipelines() {}

  /**
   * Opens a pipeline from settings by name, as job arguments or a configuration map hand them over:
   * {@code {"model": "resnet50.onnx", "preset": "imagenet", "batch": "16"}}.
   *
   * @throws ConveyorException {@code INVALID_SETTING} naming a setting that is unknown or invalid
   */
  public static Pipeline open(Map<String, String> settings) {
    return open(read(settings, "pipeline"));
  }

  /** Reads pipeline settings (model, preprocessing, batching) from strings. */
  public static Settings read(Map<String, String> settings, String where) {
    return Settings.read(settings, where, MODEL_SETTINGS, FETCH_SETTINGS, BATCH_SETTINGS);
  }

  /**
   * Opens a pipeline for requests from brokers and callers: it fetches only the references {@link
   * dev.conveyor.core.fetch.FetchSettings#FETCH_ALLOW} allows.
   */
  public static Pipeline open(Settings s) {
    return open(s, s.get(FetchSettings.FETCH_ALLOW));
  }

  /**
   * Opens a pipeline that fetches the references {@code allow} allows: for the operator's own
   * requests, such as the files named on {@code conveyor classify}'s command line.
   */
  public static Pipeline open(Settings s, FetchAllow allow) {
    Path model = modelPath(s);
    int threads = s.get(THREADS);
    ModelFit fit = new ModelFit(s);
    OnnxClassifier classifier =
        OnnxClassifier.open(model, new OnnxOptions(threads, threads > 0 ? 1 : 0, s.get(SPIN)), fit);
    try {
      ModelSpec spec = classifier.spec();
      ImageDecoder decoder = new ImageDecoder(new ImageLimits(s.get(MAX_BYTES), s.get(MAX_PIXELS)));
      TopK topK =
          new TopK(
              s.get(TOP),
              ScoreMode.valueOf(s.get(SCORES).toUpperCase(Locale.ROOT)),
              Labels.choose(s.get(LABELS), spec));
      LOG.info("model {}; preprocessing {}", spec, fit.preprocessing());
      return new Pipeline(
          classifier,
          new Preprocessor(fit.preprocessing(), decoder),
          new TensorReader(
              fit.preprocessing(), PreprocessSettings.tensorLayout(s.get(TENSOR_LAYOUT))),
          topK,
          new Fetchers(s, allow),
          HostName.get(),
          s.get(BATCH));
    } catch (RuntimeException e) {
      classifier.close();
      throw e;
    }
  }

  /** How workers batch, from the batching settings. */
  public static WorkerConfig workerConfig(Settings s) {
    return WorkerSettings.config(s);
  }

  /** The model file the settings name, or the bundled one; it must exist. */
  public static Path modelPath(Settings s) {
    Path model = chosenModel(s);
    if (!Files.isRegularFile(model)) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          (s.get(MODEL) != null
                  ? "no model file at " + model
                  : "no model given, and the default model " + model + " is not there")
              + ": pass --model PATH to an .onnx file");
    }
    return model;
  }

  /** The bundled model, under the folder the {@code conveyor.home} property names. */
  public static Path defaultModel() {
    String home = System.getProperty("conveyor.home");
    return home != null ? Path.of(home, DEFAULT_MODEL) : Path.of(DEFAULT_MODEL);
  }

  /** The name results give a model: its file name without {@code .onnx}. */
  public static String modelName(Settings s) {
    return OnnxClassifier.modelName(chosenModel(s));
  }

  /** The model file the settings name, or the bundled one. */
  private static Path chosenModel(Settings s) {
    return s.get(MODEL) != null ? s.get(MODEL) : defaultModel();
  }
}
