package dev.conveyor.core.preprocess;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What turns a decoded image into a model's input: resize, centre crop, channel order, then {@code
 * (pixel * scale - mean) / std} per channel, laid out as NCHW or NHWC float32. Means and standard
 * deviations are given in the output's channel order.
 *
 * <p>Start from a {@link Preset} and override fields, or fill a builder from a map of strings with
 * {@link #fromMap(Map)}.
 */
public record Preprocessing(
    Resize resize,
    int cropWidth,
    int cropHeight,
    ColorOrder color,
    float scale,
    float[] mean,
    float[] std,
    Layout layout) {

  public int channels() {
    return color.channels();
  }

  /** Width of the tensor one image becomes. */
  public int outputWidth() {
    return cropWidth > 0 ? cropWidth : resize.width();
  }

  /** Height of the tensor one image becomes. */
  public int outputHeight() {
    return cropHeight > 0 ? cropHeight : resize.height();
  }

  /**
   * Per output channel, the factor of {@code (v * scale - mean) / std = v * gain + offset} for an
   * 8-bit value {@code v}.
   */
  public double[] gains() {
    double[] g = new double[channels()];
    for (int c = 0; c < g.length; c++) {
      g[c] = (double) scale / std[c];
    }
    return g;
  }

  /** Per output channel, the offset of {@link #gains()}. */
  public double[] offsets() {
    double[] o = new double[channels()];
    for (int c = 0; c < o.length; c++) {
      o[c] = -(double) mean[c] / std[c];
    }
    return o;
  }

  /** The shape of one image's tensor in its layout: {@code [C, H, W]} or {@code [H, W, C]}. */
  public int[] shape() {
    int c = channels();
    int h = outputHeight();
    int w = outputWidth();
    return layout == Layout.NCHW ? new int[] {c, h, w} : new int[] {h, w, c};
  }

  /** Floats in the tensor of one image. */
  public int tensorSize() {
    return channels() * outputWidth() * outputHeight();
  }

  /**
   * Builds preprocessing from string settings named as {@link PreprocessSettings} declares them:
   * {@code preset} ({@code imagenet} when absent or {@code auto}) first, then each other one
   * overrides one field.
   *
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} for an unknown name
   * @throws IllegalArgumentException for a value that is not allowed, saying why
   */
  public static Preprocessing fromMap(Map<String, String> settings) {
    return PreprocessSettings.preprocessing(settings);
  }

  /**
   * Fits this preprocessing to a model's input: its layout, its channel count and, when the model
   * fixes them, its height and width (the resize grows in proportion to a larger crop).
   *
   * @param changes receives one line per field that had to change, for logs
   */
  public Preprocessing adaptTo(
      Layout modelLayout,
      int modelChannels,
      int modelHeight,
      int modelWidth,
      List<String> changes) {
    Builder b = toBuilder();
    if (modelLayout != null && modelLayout != layout) {
      changes.add("layout " + layout + " -> " + modelLayout + " (the model's)");
      b.optLayout(modelLayout);
    }
    if (modelChannels == 1 && color != ColorOrder.GRAY) {
      changes.add("color " + color + " -> GRAY (the model takes one channel)");
      b.optColor(ColorOrder.GRAY).optMean(mean[0]).optStd(std[0]);
    } else if (modelChannels == 3 && color == ColorOrder.GRAY) {
      changes.add("color GRAY -> RGB (the model takes three channels)");
      b.optColor(ColorOrder.RGB);
    }
    if (modelHeight > 0
        && modelWidth > 0
        && (modelHeight != outputHeight() || modelWidth != outputWidth())) {
      changes.add(
          "output %dx%d -> %dx%d (the model's input)"
              .formatted(outputWidth(), outputHeight(), modelWidth, modelHeight));
      if (cropWidth > 0) {
        if (resize.mode() == Resize.Mode.SHORTER_SIDE) {
          int longer = Math.max(modelWidth, modelHeight);
          b.optResize(Resize.shorterSide(Math.round((float) longer * resize.width() / cropWidth)));
        }
        b.optCrop(modelWidth, modelHeight);
      } else {
        b.optResize(Resize.exact(modelWidth, modelHeight));
      }
    }
    return b.build();
  }

  public Builder toBuilder() {
    return new Builder()
        .optResize(resize)
        .optCrop(cropWidth, cropHeight)
        .optColor(color)
        .optScale(scale)
        .optMean(mean)
        .optStd(std)
        .optLayout(layout);
  }

  @Override
  public String toString() {
    return "resize=%s crop=%s color=%s scale=%s mean=%s std=%s layout=%s"
        .formatted(
            resize,
            cropWidth > 0 ? cropWidth + "x" + cropHeight : "none",
            color.name().toLowerCase(java.util.Locale.ROOT),
            scale,
            Arrays.toString(mean),
            Arrays.toString(std),
            layout);
  }

  /**
   * Builds {@link Preprocessing}; optional settings are {@code opt*}, checked in {@link #build()}.
   */
  public static final class Builder {
    private Resize resize = Resize.NONE;
    private int cropWidth;
    private int cropHeight;
    private ColorOrder color = ColorOrder.RGB;
    private float scale = 1f;
    private float[] mean = {0f};
    private float[] std = {1f};
    private Layout layout = Layout.NCHW;

    public Builder optResize(Resize resize) {
      this.resize = resize;
      return this;
    }

    /** Centre crop to width x height; 0 x 0 for none. */
    public Builder optCrop(int width, int height) {
      this.cropWidth = width;
      this.cropHeight = height;
      return this;
    }

    public Builder optColor(ColorOrder color) {
      this.color = color;
      return this;
    }

    public Builder optScale(float scale) {
      this.scale = scale;
      return this;
    }

    public Builder optMean(float... mean) {
      this.mean = mean.clone();
      return this;
    }

    public Builder optStd(float... std) {
      this.std = std.clone();
      return this;
    }

    public Builder optLayout(Layout layout) {
      this.layout = layout;
      return this;
    }

    public Preprocessing build() {
      int channels = color.channels();
      List<String> problems = new ArrayList<>();
      if (cropWidth < 0 || cropHeight < 0 || (cropWidth == 0) != (cropHeight == 0)) {
        problems.add("crop must be WxH with both positive, or none");
      }
      if (cropWidth == 0 && resize.mode() != Resize.Mode.EXACT) {
        problems.add("the output size must be fixed: give a crop, or an exact resize WxH");
      }
      float[] m = perChannel(mean, channels, "mean", problems);
      float[] s = perChannel(std, channels, "std", problems);
      for (float v : s) {
        if (v == 0f) {
          problems.add("std must not be 0");
        }
      }
      if (!(scale > 0f) || Float.isInfinite(scale)) {
        problems.add("scale must be a positive number");
      }
      if (!problems.isEmpty()) {
        throw new IllegalArgumentException("invalid preprocessing: " + String.join("; ", problems));
      }
      return new Preprocessing(resize, cropWidth, cropHeight, color, scale, m, s, layout);
    }

    private static float[] perChannel(
        float[] values, int channels, String what, List<String> problems) {
      if (values.length == channels) {
        return values.clone();
      }
      if (values.length == 1) {
        float[] filled = new float[channels];
        Arrays.fill(filled, values[0]);
        return filled;
      }
      problems.add(
          "%s has %d values but the output has %d channels"
              .formatted(what, values.length, channels));
      return new float[channels];
    }
  }
}
