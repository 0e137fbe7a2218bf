package dev.conveyor.core.preprocess;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** Preprocessing recipes that users know by name. Every field can be overridden. */
public enum Preset {
  /**
   * torchvision's evaluation transform: shorter side to 256 (antialiased bilinear), centre crop
   * 224, RGB, /255, mean 0.485 0.456 0.406, std 0.229 0.224 0.225, NCHW.
   */
  IMAGENET("imagenet"),
  /** Keras {@code imagenet_utils.preprocess_input}: 224x224, BGR, minus 103.939 116.779 123.68. */
  CAFFE("caffe"),
  /** TF-slim ResNet v1: shorter side 256, crop 224, RGB, minus 123.68 116.78 103.94, NHWC. */
  TF_RESNET_V1("tf-resnet-v1"),
  /** Fashion-MNIST: grayscale 28x28, /255. */
  FASHION_MNIST("fashion-mnist");

  private final String id;

  Preset(String id) {
    this.id = id;
  }

  /** The name used on command lines. */
  public String id() {
    return id;
  }

  public static Preset parse(String name) {
    String wanted = name.trim().toLowerCase(Locale.ROOT).replace('_', '-');
    for (Preset p : values()) {
      if (p.id.equals(wanted)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown preset '%s'; choose one of: %s"
            .formatted(
                name, Arrays.stream(values()).map(Preset::id).collect(Collectors.joining(", "))));
  }

  /** The preset's settings, ready to override. */
  public Preprocessing.Builder builder() {
    Preprocessing.Builder b = new Preprocessing.Builder();
    return switch (this) {
      case IMAGENET ->
          b.optResize(Resize.shorterSide(256))
              .optCrop(224, 224)
              .optColor(ColorOrder.RGB)
              .optScale(1f / 255f)
              .optMean(0.485f, 0.456f, 0.406f)
              .optStd(0.229f, 0.224f, 0.225f)
              .optLayout(Layout.NCHW);
      case CAFFE ->
          b.optResize(Resize.exact(224, 224))
              .optCrop(0, 0)
              .optColor(ColorOrder.BGR)
              .optScale(1f)
              .optMean(103.939f, 116.779f, 123.68f)
              .optStd(1f)
              .optLayout(Layout.NHWC);
      case TF_RESNET_V1 ->
          b.optResize(Resize.shorterSide(256))
              .optCrop(224, 224)
              .optColor(ColorOrder.RGB)
              .optScale(1f)
              .optMean(123.68f, 116.78f, 103.94f)
              .optStd(1f)
              .optLayout(Layout.NHWC);
      case FASHION_MNIST ->
          b.optResize(Resize.exact(28, 28))
              .optCrop(0, 0)
              .optColor(ColorOrder.GRAY)
              .optScale(1f / 255f)
              .optMean(0f)
              .optStd(1f)
              .optLayout(Layout.NCHW);
    };
  }

  public Preprocessing get() {
    return builder().build();
  }
}
