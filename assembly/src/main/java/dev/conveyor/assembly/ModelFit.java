package dev.conveyor.assembly;

import static dev.conveyor.assembly.PipelineSettings.*;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.model.ModelSpec;
import dev.conveyor.core.preprocess.Preprocessing;
import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.Settings;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides, once, the preprocessing a model gets: the preset (or {@code auto}) with the overrides
 * given, fitted to the model's layout, channels and fixed image size. Given to {@link
 * dev.conveyor.onnx.OnnxClassifier#open} as its fit, it also fixes the image size of a model that
 * leaves it open to what the preprocessing produces.
 */
final class ModelFit implements UnaryOperator<ModelSpec> {
  private static final Logger LOG = LoggerFactory.getLogger(ModelFit.class);
  private static final List<Setting<String>> OVERRIDES =
      List.of(RESIZE, CROP, COLOR, SCALE, MEAN, STD, LAYOUT);

  private final Settings settings;
  private Preprocessing preprocessing;

  ModelFit(Settings settings) {
    this.settings = settings;
  }

  /** The preprocessing decided for the model; set once {@link #apply} has run. */
  Preprocessing preprocessing() {
    return preprocessing;
  }

  @Override
  public ModelSpec apply(ModelSpec spec) {
    Map<String, String> chosen = new LinkedHashMap<>();
    String preset = settings.get(PRESET);
    if (preset.equals("auto")) {
      preset =
          spec.channels() == 1 && spec.height() == 28 && spec.width() == 28
              ? "fashion-mnist"
              : "imagenet";
    }
    chosen.put("preset", preset);
    for (Setting<String> s : OVERRIDES) {
      if (settings.get(s) != null) {
        chosen.put(s.name(), settings.get(s));
      }
    }
    List<String> changes = new ArrayList<>();
    try {
      preprocessing =
          Preprocessing.fromMap(chosen)
              .adaptTo(
                  settings.get(LAYOUT) != null ? null : spec.layout(),
                  spec.channels(),
                  spec.height(),
                  spec.width(),
                  changes);
    } catch (IllegalArgumentException e) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, e.getMessage(), e);
    }
    for (String change : changes) {
      LOG.warn("preprocessing fitted to the model {}: {}", spec.name(), change);
    }
    return new ModelSpec(
        spec.name(),
        spec.layout(),
        preprocessing.channels(),
        preprocessing.outputHeight(),
        preprocessing.outputWidth(),
        spec.fixedBatch(),
        spec.classes(),
        spec.labels());
  }
}
