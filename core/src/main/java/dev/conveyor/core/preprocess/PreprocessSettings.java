package dev.conveyor.core.preprocess;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import java.util.List;
import java.util.Map;

/**
 * How images become a model's input, declared once: a preset and the fields that override it.
 * Commands take them as options, jobs as arguments, {@link Preprocessing#fromMap} as a map.
 */
public final class PreprocessSettings {
  private PreprocessSettings() {}

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
      override(
          "resize",
          "N|WxH|none",
          "override: resize the shorter side to N, or to exactly WxH",
          "N (shorter side), WxH (exact) or none");
  public static final Setting<String> CROP =
      override("crop", "N|WxH|none", "override: centre crop", "N, WxH or none");
  public static final Setting<String> COLOR =
      Setting.choice("color", null, "override: channel order", "rgb", "bgr", "gray");
  public static final Setting<String> SCALE =
      override(
          "scale",
          "X",
          "override: multiply pixels (0..255) by X before mean and std",
          "a number (1/255 = 0.00392157)");
  public static final Setting<String> MEAN =
      override(
          "mean",
          "M[,M,M]",
          "override: subtract per channel, in output channel order",
          "one number or one per channel, comma-separated");
  public static final Setting<String> STD =
      override(
          "std",
          "S[,S,S]",
          "override: divide per channel",
          "one positive number or one per channel, comma-separated");
  public static final Setting<String> LAYOUT =
      Setting.choice(
          "layout", null, "override: tensor layout (normally read from the model)", "nchw", "nhwc");

  /**
   * The layout of tensor requests that do not say theirs. A broker URI may give it too, for the
   * requests that come through it ({@link #URI_TENSOR_LAYOUT}).
   */
  public static final Setting<String> TENSOR_LAYOUT =
      Setting.choice(
          "tensor-layout",
          "model",
          "layout of tensor requests whose message gives no shape or layout: `model` (the model's own), `nchw` or `nhwc` (Keras and seed 003's clients)",
          "model",
          "nchw",
          "nhwc");

  /** {@link #TENSOR_LAYOUT} as a broker URI takes it: by default the worker's. */
  public static final Setting<String> URI_TENSOR_LAYOUT =
      TENSOR_LAYOUT.withDefault(null, "the worker's --tensor-layout");

  /** The fields that override a preset's. */
  public static final List<Setting<String>> OVERRIDES =
      List.of(RESIZE, CROP, COLOR, SCALE, MEAN, STD, LAYOUT);

  /** The preprocessing: a preset, then the fields given override it. */
  public static final SettingGroup SETTINGS =
      SettingGroup.of("Preprocessing", PRESET, RESIZE, CROP, COLOR, SCALE, MEAN, STD, LAYOUT);

  /** The layout a tensor-layout value names: {@code null} for the model's own. */
  public static Layout tensorLayout(String value) {
    return value == null || value.equals("model")
        ? null
        : Layout.valueOf(value.toUpperCase(java.util.Locale.ROOT));
  }

  /** Reads a map of preprocessing settings, naming an unknown one and the closest known. */
  static Settings read(Map<String, String> given) {
    return Settings.read(given, "preprocessing", SETTINGS);
  }

  /** An override, checked as {@link Preprocessing} reads it. */
  private static Setting<String> override(String name, String label, String doc, String allowed) {
    return Setting.text(name, label, doc, value -> Preprocessing.valid(name, value), allowed);
  }
}
