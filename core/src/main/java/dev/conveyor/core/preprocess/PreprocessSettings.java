package dev.conveyor.core.preprocess;

import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import java.util.List;
import java.util.Locale;
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

  /**
   * {@link #TENSOR_LAYOUT} as a broker URI takes it: by default, and for {@code model} (or {@code
   * none}, its name in URIs written before), the worker's.
   */
  public static final Setting<String> URI_TENSOR_LAYOUT =
      new Setting<>(
          TENSOR_LAYOUT.name(),
          TENSOR_LAYOUT.label(),
          TENSOR_LAYOUT.doc()
              + "; in a URI, `model` (or `none`) leaves it to the worker's --tensor-layout",
          "the worker's --tensor-layout",
          null,
          s -> s.equalsIgnoreCase("none") ? "model" : TENSOR_LAYOUT.parse().apply(s),
          TENSOR_LAYOUT.allowed(),
          false);

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

  /** An override, checked as {@link Preprocessing} reads it. */
  private static Setting<String> override(String name, String label, String doc, String allowed) {
    return Setting.text(name, label, doc, value -> valid(name, value), allowed);
  }

  /**
   * Builds preprocessing from string settings, named as {@link PreprocessSettings} declares them:
   * {@code preset} ({@code imagenet} when absent or {@code auto}) first, then each other one
   * overrides one field.
   *
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} for an unknown name
   * @throws IllegalArgumentException for a value that is not allowed, saying why
   */
  public static Preprocessing preprocessing(Map<String, String> settings) {
    Settings s = Settings.read(settings, "preprocessing", SETTINGS);
    String preset = s.get(PRESET);
    return preprocessing(s, preset.equals("auto") ? "imagenet" : preset);
  }

  /**
   * Builds preprocessing from {@code preset} and the overrides among {@code settings} (a pipeline's
   * settings hold them beside others).
   */
  public static Preprocessing preprocessing(Settings settings, String preset) {
    Preprocessing.Builder b = Preset.parse(preset).builder();
    for (Setting<String> o : OVERRIDES) {
      String value = settings.get(o);
      if (value != null) {
        apply(o.name(), value, b);
      }
    }
    return b.build();
  }

  /**
   * Whether one override's value reads: its syntax alone. Whether it fits the others (a mean per
   * channel, a crop beside an exact resize) is checked as the preprocessing is built, saying why.
   */
  static boolean valid(String name, String value) {
    try {
      apply(name, value, Preset.IMAGENET.builder());
      return true;
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static void apply(String name, String v, Preprocessing.Builder b) {
    if (name.equals(RESIZE.name())) {
      b.optResize(Resize.parse(v));
    } else if (name.equals(CROP.name())) {
      if (v.trim().equalsIgnoreCase("none")) {
        b.optCrop(0, 0);
      } else {
        int[] c = Sizes.parse(v, "crop");
        b.optCrop(c[0], c.length == 1 ? c[0] : c[1]);
      }
    } else if (name.equals(COLOR.name())) {
      b.optColor(ColorOrder.valueOf(v.trim().toUpperCase(Locale.ROOT)));
    } else if (name.equals(SCALE.name())) {
      b.optScale(Sizes.floats(v, "scale")[0]);
    } else if (name.equals(MEAN.name())) {
      b.optMean(Sizes.floats(v, "mean"));
    } else if (name.equals(STD.name())) {
      b.optStd(Sizes.floats(v, "std"));
    } else if (name.equals(LAYOUT.name())) {
      b.optLayout(Layout.valueOf(v.trim().toUpperCase(Locale.ROOT)));
    } else {
      throw new IllegalArgumentException("not a preprocessing override: " + name);
    }
  }
}
