package dev.conveyor.core.topk;

/** How raw model outputs become the scores in results. */
public enum ScoreMode {
  /** Softmax, unless a row is already a probability distribution (non-negative, sums to 1). */
  AUTO,
  /** Always softmax. */
  SOFTMAX,
  /** The model's outputs as they are. */
  RAW
}
