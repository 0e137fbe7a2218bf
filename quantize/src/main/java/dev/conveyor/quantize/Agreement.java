package dev.conveyor.quantize;

import dev.conveyor.core.model.Classifier;
import dev.conveyor.core.model.Labels;
import dev.conveyor.core.topk.ScoreMode;
import dev.conveyor.core.topk.TopK;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.List;

/**
 * How two models compare on one set of images: how many get the same top-1 class, and the largest
 * difference between their softmax scores.
 */
public record Agreement(int images, int sameTop1, double maxScoreDifference) {
  private static final int BATCH = 16;

  /** The share of images with the same top-1 class; 0 without images. */
  public double rate() {
    return images == 0 ? 0 : (double) sameTop1 / images;
  }

  /** Runs both models over the preprocessed images and compares their scores. */
  public static Agreement of(Classifier a, Classifier b, List<float[]> tensors) {
    int classes = a.spec().classes();
    // top-1 as served; selecting also turns each image's scores into softmax probabilities
    TopK top = new TopK(1, ScoreMode.SOFTMAX, Labels.none());
    int same = 0;
    double worst = 0;
    for (int from = 0; from < tensors.size(); from += BATCH) {
      int n = Math.min(BATCH, tensors.size() - from);
      FloatBuffer in = direct(n * tensors.get(0).length);
      for (int i = 0; i < n; i++) {
        in.put(tensors.get(from + i));
      }
      in.flip();
      FloatBuffer outA = direct(n * classes);
      FloatBuffer outB = direct(n * classes);
      a.run(in, n, outA);
      in.rewind();
      b.run(in, n, outB);
      float[] pa = new float[n * classes];
      float[] pb = new float[n * classes];
      outA.get(0, pa);
      outB.get(0, pb);
      for (int i = 0; i < n; i++) {
        int at = i * classes;
        if (top.select(pa, at, classes).get(0).index()
            == top.select(pb, at, classes).get(0).index()) {
          same++;
        }
        for (int c = at; c < at + classes; c++) {
          worst = Math.max(worst, Math.abs(pa[c] - pb[c]));
        }
      }
    }
    return new Agreement(tensors.size(), same, worst);
  }

  private static FloatBuffer direct(int floats) {
    return ByteBuffer.allocateDirect(floats * Float.BYTES)
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }
}
