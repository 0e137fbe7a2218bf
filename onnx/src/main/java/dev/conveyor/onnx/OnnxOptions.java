package dev.conveyor.onnx;

/**
 * How ONNX Runtime runs a model.
 *
 * @param intraOpThreads threads inside one operator (0: ONNX Runtime's default, one per core)
 * @param interOpThreads threads across independent operators (0: default)
 * @param spinning whether idle ONNX Runtime threads spin waiting for work. Spinning shaves
 *     microseconds off each call but burns the cores that decode and preprocess the next batch, so
 *     Conveyor turns it off by default
 */
public record OnnxOptions(int intraOpThreads, int interOpThreads, boolean spinning) {
  public static final OnnxOptions DEFAULT = new OnnxOptions(0, 0, false);

  public OnnxOptions {
    if (intraOpThreads < 0 || interOpThreads < 0) {
      throw new IllegalArgumentException("thread counts must be 0 (default) or more");
    }
  }
}
