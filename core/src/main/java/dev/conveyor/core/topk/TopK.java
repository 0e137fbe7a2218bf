package dev.conveyor.core.topk;

import dev.conveyor.core.Prediction;
import dev.conveyor.core.model.Labels;
import java.util.ArrayList;
import java.util.List;

/** Turns one image's scores into its k best predictions, best first. */
public final class TopK {
  private static final float PROBABILITY_TOLERANCE = 1e-3f;

  private final int k;
  private final ScoreMode mode;
  private final Labels labels;

  public TopK(int k, ScoreMode mode, Labels labels) {
    if (k < 1) {
      throw new IllegalArgumentException("top-k must be at least 1");
    }
    this.k = k;
    this.mode = mode;
    this.labels = labels;
  }

  /**
   * The top-k of {@code classes} scores starting at {@code offset}. The array is modified when
   * softmax applies.
   */
  public List<Prediction> select(float[] scores, int offset, int classes) {
    if (mode == ScoreMode.SOFTMAX
        || (mode == ScoreMode.AUTO && !isDistribution(scores, offset, classes))) {
      softmax(scores, offset, classes);
    }
    int n = Math.min(k, classes);
    int[] best = new int[n];
    int found = 0;
    for (int i = 0; i < classes; i++) {
      float v = scores[offset + i];
      if (found < n) {
        found++;
      } else if (!(v > scores[offset + best[n - 1]])) {
        continue;
      }
      int j = found - 1;
      while (j > 0 && v > scores[offset + best[j - 1]]) {
        best[j] = best[j - 1];
        j--;
      }
      best[j] = i;
    }
    List<Prediction> out = new ArrayList<>(n);
    for (int idx : best) {
      out.add(new Prediction(idx, labels.label(idx), scores[offset + idx]));
    }
    return out;
  }

  static boolean isDistribution(float[] scores, int offset, int classes) {
    double sum = 0;
    for (int i = 0; i < classes; i++) {
      float v = scores[offset + i];
      if (v < 0f || v > 1f) {
        return false;
      }
      sum += v;
    }
    return Math.abs(sum - 1.0) <= PROBABILITY_TOLERANCE;
  }

  static void softmax(float[] scores, int offset, int classes) {
    float max = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < classes; i++) {
      max = Math.max(max, scores[offset + i]);
    }
    double sum = 0;
    for (int i = 0; i < classes; i++) {
      double e = Math.exp(scores[offset + i] - max);
      scores[offset + i] = (float) e;
      sum += e;
    }
    for (int i = 0; i < classes; i++) {
      scores[offset + i] = (float) (scores[offset + i] / sum);
    }
  }
}
