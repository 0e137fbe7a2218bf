package dev.conveyor.assembly;

import dev.conveyor.core.decode.ImageLimits;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.preprocess.Preprocessing;
import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import java.nio.file.Path;
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

  public static final Setting<String> PRESET =
      Setting.choice(
          "preset",
          "auto",
          "preprocessing preset; `auto` is `fashion-mnist` for one-channel 28×28 models, else `imagenet`",
          "auto",
          "imagenet",
          "caffe",
          "tf-resnet-v1",
          "fashion-mnist");

  public static final Setting<String> RESIZE =
      preprocessing(
          "resize", "N|WxH|none", "override: resize the shorter side to N, or to exactly WxH");
  public static final Setting<String> CROP =
      preprocessing("crop", "N|WxH|none", "override: centre crop");
  public static final Setting<String> COLOR =
      Setting.choice("color", null, "override: channel order", "rgb", "bgr", "gray");
  public static final Setting<String> SCALE =
      preprocessing("scale", "X", "override: multiply pixels (0..255) by X before mean and std");
  public static final Setting<String> MEAN =
      preprocessing("mean", "M[,M,M]", "override: subtract per channel, in output channel order");
  public static final Setting<String> STD =
      preprocessing("std", "S[,S,S]", "override: divide per channel");
  public static final Setting<String> LAYOUT =
      Setting.choice(
          "layout", null, "override: tensor layout (normally read from the model)", "nchw", "nhwc");

  public static final Setting<String> TENSOR_LAYOUT =
      Setting.choice(
          "tensor-layout",
          "model",
          "layout of tensor requests whose message gives no shape or layout: `model` (the model's own), `nchw` or `nhwc` (Keras and seed 003's clients)",
          "model",
          "nchw",
          "nhwc");

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

  public static final Setting<Integer> BATCH =
      Setting.integer("batch", 8, 1, "most images per model call");
  public static final Setting<Integer> LINGER_MS =
      Setting.integer(
          "linger-ms",
          5,
          0,
          "how long a batch may wait for more images after its first, while earlier batches hold the model (an idle model starts at once)");
  public static final Setting<Integer> PREPROCESS_THREADS =
      Setting.integer(
              "preprocess-threads",
              Runtime.getRuntime().availableProcessors(),
              1,
              "threads decoding and preprocessing while the model runs")
          .withDefault(Runtime.getRuntime().availableProcessors(), "one per core");
  public static final Setting<Integer> QUEUE =
      Setting.integer(
          "queue",
          1024,
          1,
          "most requests waiting in memory; beyond it callers wait or are told busy");
  public static final Setting<Integer> MAX_DELIVERIES =
      Setting.integer(
          "max-deliveries",
          3,
          1,
          "deliveries of a request whose batch keeps failing before it is given up on (in-process queue; brokers take it in their URI)");

  public static final Setting<String> SINK =
      Setting.text(
          "sink",
          "URI",
          "where workers also store each result, whichever transport brought the request: postgresql://…?results=TABLE, redis://…, kafka://…?results=TOPIC (a result is acknowledged once both hold it)",
          s -> s.matches("[a-zA-Z][a-zA-Z0-9+.-]*://.+"),
          "a broker URI");

  /** Where results go besides the transport's own place: a worker's and a server's setting. */
  public static final SettingGroup RESULT_SETTINGS = SettingGroup.of("Results", SINK);

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

  /** A preprocessing override, checked as {@link Preprocessing#fromMap} reads it. */
  private static Setting<String> preprocessing(String name, String label, String doc) {
    return Setting.text(
        name,
        label,
        doc,
        value -> {
          try {
            // checked beside an exact resize, so that a value that needs one (crop none) is not
            // refused on its own; the whole preprocessing is checked when the pipeline opens
            Preprocessing.fromMap(
                name.equals("resize") ? Map.of(name, value) : Map.of("resize", "8x8", name, value));
            return true;
          } catch (RuntimeException e) {
            return false;
          }
        },
        Preprocessing.KEYS.get(name));
  }
}
