package dev.conveyor.core.model;

import java.nio.FloatBuffer;

/**
 * A model that maps a batch of preprocessed images to one score per class. Implementations live
 * outside core (ONNX Runtime in {@code conveyor-onnx}); they must be safe to call from one thread
 * at a time and should not copy the input.
 */
public interface Classifier extends AutoCloseable {

  /** The model's input and output, read from the model itself. */
  ModelSpec spec();

  /**
   * Runs the model.
   *
   * @param input {@code count} images packed from position 0, each {@code channels * height *
   *     width} floats in the model's layout; ideally a direct buffer in native order
   * @param count how many images, at least 1
   * @param output receives {@code count * classes} scores from position 0
   * @throws dev.conveyor.core.ConveyorException with {@code INFERENCE_FAILED}
   */
  void run(FloatBuffer input, int count, FloatBuffer output);

  @Override
  void close();
}
