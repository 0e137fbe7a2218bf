package dev.conveyor.cli;

import dev.conveyor.core.classify.ScoreMode;
import dev.conveyor.core.image.ImageLimits;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Which model to run and how images become its input: shared by every command that classifies. */
public final class ModelOptions {
  @Option(
      names = "--model",
      paramLabel = "PATH",
      description =
          "ONNX model file. Default: the bundled Fashion-MNIST model, models/fashion-mnist.onnx.")
  Path model;

  @Option(
      names = "--preset",
      paramLabel = "P",
      defaultValue = "auto",
      description =
          "Preprocessing preset: imagenet, caffe, tf-resnet-v1, fashion-mnist, or auto"
              + " (fashion-mnist for one-channel 28x28 models, else imagenet). Default: ${DEFAULT-VALUE}.")
  String preset;

  @Option(
      names = "--resize",
      paramLabel = "N|WxH|none",
      description = "Override: resize the shorter side to N, or to exactly WxH.")
  String resize;

  @Option(names = "--crop", paramLabel = "N|WxH|none", description = "Override: centre crop.")
  String crop;

  @Option(names = "--color", paramLabel = "rgb|bgr|gray", description = "Override: channel order.")
  String color;

  @Option(
      names = "--scale",
      paramLabel = "X",
      description = "Override: multiply pixels (0..255) by X before mean and std.")
  String scale;

  @Option(
      names = "--mean",
      paramLabel = "M[,M,M]",
      description = "Override: subtract per channel, in output channel order.")
  String mean;

  @Option(names = "--std", paramLabel = "S[,S,S]", description = "Override: divide per channel.")
  String std;

  @Option(
      names = "--layout",
      paramLabel = "nchw|nhwc",
      description = "Override: tensor layout (normally read from the model).")
  String layout;

  @Option(
      names = "--labels",
      paramLabel = "FILE",
      description =
          "Class names, one per line. Default: the model's metadata, or ImageNet's for 1000 classes.")
  Path labels;

  @Option(
      names = "--top",
      paramLabel = "K",
      defaultValue = "5",
      description = "Predictions per image. Default: ${DEFAULT-VALUE}.")
  int top;

  @Option(
      names = "--scores",
      paramLabel = "MODE",
      defaultValue = "auto",
      description =
          "softmax, raw, or auto: softmax unless the model already outputs probabilities. Default: ${DEFAULT-VALUE}.")
  ScoreMode scores;

  @Option(
      names = "--threads",
      paramLabel = "N",
      defaultValue = "0",
      description =
          "ONNX Runtime threads per model call; 0 = one per core. Default: ${DEFAULT-VALUE}.")
  int threads;

  @Option(
      names = "--spin",
      description =
          "Let idle ONNX Runtime threads spin for work: faster model calls, fewer cycles left for preprocessing.")
  boolean spin;

  @Option(
      names = "--max-bytes",
      paramLabel = "N",
      description = "Largest encoded image accepted. Default: 20 MiB.")
  long maxBytes = ImageLimits.DEFAULT.maxBytes();

  @Option(
      names = "--max-pixels",
      paramLabel = "N",
      description = "Most pixels an image may declare, checked before decoding. Default: 50000000.")
  long maxPixels = ImageLimits.DEFAULT.maxPixels();

  /** The preprocessing overrides given, as the keys Preprocessing.fromMap reads. */
  Map<String, String> overrides() {
    Map<String, String> map = new LinkedHashMap<>();
    put(map, "resize", resize);
    put(map, "crop", crop);
    put(map, "color", color);
    put(map, "scale", scale);
    put(map, "mean", mean);
    put(map, "std", std);
    put(map, "layout", layout);
    return map;
  }

  private static void put(Map<String, String> map, String key, String value) {
    if (value != null) {
      map.put(key, value);
    }
  }
}
