package dev.conveyor.assembly;

import static dev.conveyor.assembly.PipelineSettings.*;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.model.ModelSpec;
import dev.conveyor.core.preprocess.PreprocessSettings;
import dev.conveyor.core.preprocess.Preprocessing;
import dev.conveyor.core.settings.Settings;
import java.util.ArrayList;
import java.util.List;
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
    String preset = settings.get(PRESET);
    if (preset.equals("auto")) {
      preset =
          spec.channels() == 1 && spec.height() == 28 && spec.width() == 28
              ? "fashion-mnist"
              : "imagenet";
    }
    List<String> changes = new ArrayList<>();
    try {
      preprocessing =
          PreprocessSettings.preprocessing(settings, preset)
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
