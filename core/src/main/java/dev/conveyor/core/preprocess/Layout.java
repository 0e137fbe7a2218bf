package dev.conveyor.core.preprocess;

/** How a batch tensor orders its dimensions. */
public enum Layout {
  /** batch, channels, height, width (PyTorch, ONNX Model Zoo). */
  NCHW,
  /** batch, height, width, channels (TensorFlow, Keras). */
  NHWC
}
