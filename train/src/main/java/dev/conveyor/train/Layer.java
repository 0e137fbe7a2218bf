package dev.conveyor.train;

/**
 * One layer of Conveyor's CNN, described once: {@link Cnn} builds the DJL block from it for
 * training, and {@link OnnxExport} writes the ONNX nodes from it for serving.
 */
sealed interface Layer {
  /** 2-D convolution with a square kernel, stride 1, zero padding of {@code padding}. */
  record Conv(int filters, int kernel, int padding) implements Layer {}

  /** Batch normalization over channels. */
  record BatchNorm(float epsilon) implements Layer {}

  record Relu() implements Layer {}

  /** Max pooling with a square window and the same stride. */
  record MaxPool(int size) implements Layer {}

  /** Flattens everything after the batch axis. */
  record Flatten() implements Layer {}

  /** Dropout while training; nothing at inference. */
  record Dropout(float rate) implements Layer {}

  /** Fully connected. */
  record Dense(int units) implements Layer {}
}
