package dev.conveyor.assembly;

import dev.conveyor.core.decode.ImageLimits;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.preprocess.PreprocessSettings;
import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.transport.TransportSettings;
import dev.conveyor.core.worker.WorkerSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The pipeline's settings, declared once: which model runs, how images become its input, how
 * results are scored, and how workers batch. Commands take them as options ({@code --batch 16}),
 * jobs as arguments, and {@link Pipelines#open} from a map.
 */
public final class PipelineSettings {
  private PipelineSettings() {}

  public static final Setting<Path> MODEL =
      Setting.path(
              "model",
              "PATH",
              "an ONNX model; its input name, shape, layout and batch axis are read from the file")
          .withDefault(null, "models/fashion-mnist.onnx (bundled)");

  public static final Setting<String> PRESET = PreprocessSettings.PRESET;
  public static final Setting<String> RESIZE = PreprocessSettings.RESIZE;
  public static final Setting<String> CROP = PreprocessSettings.CROP;
  public static final Setting<String> COLOR = PreprocessSettings.COLOR;
  public static final Setting<String> SCALE = PreprocessSettings.SCALE;
  public static final Setting<String> MEAN = PreprocessSettings.MEAN;
  public static final Setting<String> STD = PreprocessSettings.STD;
  public static final Setting<String> LAYOUT = PreprocessSettings.LAYOUT;
  public static final Setting<String> TENSOR_LAYOUT = PreprocessSettings.TENSOR_LAYOUT;

  public static final Setting<Path> LABELS =
      Setting.path(
              "labels",
              "FILE",
              "class names, one per line; else the model's metadata, or ImageNet's for 1000 classes")
          .withDefault(null, "the model's");
  public static final Setting<Integer> TOP = Setting.integer("top", 5, 1, "predictions per image");
  public static final Setting<String> SCORES =
      Setting.choice(
          "scores",
          "auto",
          "`softmax`, `raw`, or `auto`: softmax unless the outputs already are probabilities",
          "auto",
          "softmax",
          "raw");
  public static final Setting<Integer> THREADS =
      Setting.integer("threads", 0, 0, "ONNX Runtime threads per model call; 0: one per core");
  public static final Setting<Boolean> SPIN =
      Setting.flag(
          "spin",
          "let idle ONNX Runtime threads spin: faster model calls, less CPU left for decoding");
  public static final Setting<Long> MAX_BYTES =
      Setting.longInteger(
              "max-bytes", ImageLimits.DEFAULT.maxBytes(), 1, "largest encoded image accepted")
          .withDefault(ImageLimits.DEFAULT.maxBytes(), "20 MiB");
  public static final Setting<Long> MAX_PIXELS =
      Setting.longInteger(
              "max-pixels",
              ImageLimits.DEFAULT.maxPixels(),
              1,
              "most pixels an image may declare, checked before decoding")
          .withDefault(ImageLimits.DEFAULT.maxPixels(), "50 million");

  public static final Setting<Integer> BATCH = WorkerSettings.BATCH;
  public static final Setting<Integer> LINGER_MS = WorkerSettings.LINGER_MS;
  public static final Setting<Integer> PREPROCESS_THREADS = WorkerSettings.PREPROCESS_THREADS;
  public static final Setting<Integer> WORKERS = WorkerSettings.WORKERS;
  public static final Setting<Integer> QUEUE = TransportSettings.QUEUE;
  public static final Setting<Integer> MAX_DELIVERIES = TransportSettings.MAX_DELIVERIES;
  public static final Setting<String> TRANSPORT = TransportSettings.TRANSPORT;
  public static final Setting<Integer> PARTITIONS = TransportSettings.PARTITIONS;

  public static final Setting<String> RESULTS_TO =
      Setting.text(
          "results-to",
          "URI",
          "where workers also store each result, whichever transport brought the request: postgresql://…?results=TABLE, redis://…, kafka://…?results=TOPIC (a result is acknowledged once both hold it)",
          s -> s.matches("[a-zA-Z][a-zA-Z0-9+.-]*://.+"),
          "a broker URI");

  /** Where results go besides the transport's own place: a worker's and a server's setting. */
  public static final SettingGroup RESULT_SETTINGS = SettingGroup.of("Results", RESULTS_TO);

  /** The model, its preprocessing and its scores. */
  public static final SettingGroup MODEL_SETTINGS =
      SettingGroup.of(
          "Model and preprocessing",
          MODEL,
          PRESET,
          RESIZE,
          CROP,
          COLOR,
          SCALE,
          MEAN,
          STD,
          LAYOUT,
          TENSOR_LAYOUT,
          LABELS,
          TOP,
          SCORES,
          THREADS,
          SPIN,
          MAX_BYTES,
          MAX_PIXELS);

  /** How images that requests refer to ({@code s3://…}) are fetched. */
  public static final SettingGroup FETCH_SETTINGS = FetchSettings.SETTINGS;

  /** How workers batch, and how many requests may wait for them in memory. */
  public static final SettingGroup BATCH_SETTINGS =
      SettingGroup.of("Batching", BATCH, LINGER_MS, PREPROCESS_THREADS, QUEUE, MAX_DELIVERIES);

  /**
   * Where requests travel: the embedded queue or a broker's URI, and the broker setting that a
   * command line may give beside the URI.
   */
  public static final SettingGroup TRANSPORT_SETTINGS =
      SettingGroup.of("Transport", TRANSPORT, PARTITIONS);

  /** How many workers a process runs. */
  public static final SettingGroup WORKER_SETTINGS = SettingGroup.of("Workers", WORKERS);

  public static final Setting<String> MODELS =
      Setting.text(
          "models",
          "REPO",
          "a model repository instead of one --model: a folder or an s3://bucket/prefix laid out"
              + " NAME/VERSION/model.onnx, with an optional NAME/config.properties of the model's own"
              + " settings; each request names its model, and a newer version is rolled out while"
              + " batches run",
          s -> !s.isBlank(),
          "a folder, or s3://bucket/prefix");
  public static final Setting<String> DEFAULT_MODEL =
      Setting.text(
          "default-model",
          "NAME",
          "with --models: the model a request that names none gets; without it, such a request"
              + " gets UNKNOWN_MODEL",
          dev.conveyor.core.model.ModelRepository::isModelName,
          "a model's name: up to 64 letters, digits, '.', '_' or '-'");
  public static final Setting<Duration> MODELS_POLL =
      Setting.seconds(
          "models-poll", 5, "with --models: how often the repository is read for new versions");

  public static final Setting<Integer> MODELS_MEMORY =
      Setting.integer(
          "models-memory",
          0,
          0,
          "with --models: MiB of model files kept open at once; opening one more closes the least"
              + " recently used (the default model last), which opens again when next asked for;"
              + " 0: no limit");

  /** Serving a model repository rather than one model. */
  public static final SettingGroup REPOSITORY_SETTINGS =
      SettingGroup.of("Model repository", MODELS, DEFAULT_MODEL, MODELS_POLL, MODELS_MEMORY);

  /**
   * The broker settings that options give beside the transport's URI ({@code --partitions}, {@code
   * --max-deliveries}), which win over its query.
   */
  public static Map<String, String> brokerOverrides(Settings settings) {
    Map<String, String> given = new java.util.LinkedHashMap<>();
    for (Setting<Integer> s : List.of(PARTITIONS, MAX_DELIVERIES)) {
      if (settings.has(s)) {
        given.put(s.name(), settings.get(s).toString());
      }
    }
    return given;
  }
}
