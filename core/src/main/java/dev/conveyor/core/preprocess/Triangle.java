package dev.conveyor.core.preprocess;

import org.opencv.core.CvType;
import org.opencv.core.Mat;

/** The normalized triangle (tent) kernel of PIL's bilinear filter, for a given downscale. */
final class Triangle {
  private Triangle() {}

  /** A column kernel of half-width {@code scale} pixels; the identity for scale at most 1. */
  static Mat kernel(double scale) {
    if (scale <= 1) {
      Mat identity = new Mat(1, 1, CvType.CV_32F);
      identity.put(0, 0, 1f);
      return identity;
    }
    int radius = (int) Math.ceil(scale) - 1;
    float[] weights = new float[2 * radius + 1];
    double sum = 0;
    for (int i = -radius; i <= radius; i++) {
      double w = 1 - Math.abs(i) / scale;
      weights[i + radius] = (float) w;
      sum += w;
    }
    for (int i = 0; i < weights.length; i++) {
      weights[i] = (float) (weights[i] / sum);
    }
    Mat kernel = new Mat(weights.length, 1, CvType.CV_32F);
    kernel.put(0, 0, weights);
    return kernel;
  }
}
