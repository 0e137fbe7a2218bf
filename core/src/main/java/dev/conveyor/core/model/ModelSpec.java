package dev.conveyor.core.model;

import dev.conveyor.core.preprocess.Layout;
import java.util.List;

/**
 * What a {@link Classifier} takes and gives, as read from the model.
 *
 * @param name the model's name, reported in results
 * @param layout NCHW or NHWC
 * @param channels channels per image (1 or 3), or -1 when the model does not fix it
 * @param height image height, or -1 when the model does not fix it
 * @param width image width, or -1 when the model does not fix it
 * @param fixedBatch the batch size the model requires, or 0 when its batch axis is dynamic
 * @param classes outputs per image
 * @param labels class names from the model's metadata; empty when it has none
 */
public record ModelSpec(
    String name,
    Layout layout,
    int channels,
    int height,
    int width,
    int fixedBatch,
    int classes,
    List<String> labels) {

  public ModelSpec {
    labels = List.copyOf(labels);
  }

  public boolean dynamicBatch() {
    return fixedBatch == 0;
  }
}
