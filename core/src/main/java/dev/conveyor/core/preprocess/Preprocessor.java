package dev.conveyor.core.preprocess;

import dev.conveyor.core.image.ImageDecoder;
import java.nio.FloatBuffer;
import org.opencv.core.Core;
import org.opencv.core.Mat;
import org.opencv.core.Point;
import org.opencv.core.Rect;
import org.opencv.core.Scalar;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * Turns encoded images into model input, written straight into a slot of a batch buffer: decode
 * (reduced when the resize allows), resize, centre crop, then channel order, scale, mean and std
 * through a per-channel lookup table, in the requested layout. Thread-safe; each thread keeps its
 * own scratch arrays.
 */
public final class Preprocessor {
  private final Preprocessing spec;
  private final ImageDecoder decoder;
  private final float[][] lut;
  private final int[] sourceChannel;
  private final ThreadLocal<Scratch> scratch;
  private static final Point ANCHOR = new Point(-1, -1);

  public Preprocessor(Preprocessing spec, ImageDecoder decoder) {
    this.spec = spec;
    this.decoder = decoder;
    int channels = spec.channels();
    this.lut = new float[channels][256];
    for (int c = 0; c < channels; c++) {
      for (int v = 0; v < 256; v++) {
        lut[c][v] = (v * spec.scale() - spec.mean()[c]) / spec.std()[c];
      }
    }
    // decoded images are BGR (or one gray channel); map each output channel to its source
    this.sourceChannel =
        switch (spec.color()) {
          case RGB -> new int[] {2, 1, 0};
          case BGR -> new int[] {0, 1, 2};
          case GRAY -> new int[] {0};
        };
    int pixels = spec.outputWidth() * spec.outputHeight();
    this.scratch =
        ThreadLocal.withInitial(
            () -> new Scratch(new byte[pixels * channels], new float[pixels * channels]));
  }

  public Preprocessing spec() {
    return spec;
  }

  public ImageDecoder decoder() {
    return decoder;
  }

  /** Floats one image occupies in a batch buffer. */
  public int tensorSize() {
    return spec.tensorSize();
  }

  /**
   * Decodes and preprocesses one image into {@code batch} at slot {@code slot}.
   *
   * @throws dev.conveyor.core.ConveyorException when the image is empty, too large, unsupported or
   *     corrupt; the buffer is then left untouched
   */
  public void preprocess(byte[] encoded, FloatBuffer batch, int slot) {
    Mat pixels = decode(encoded);
    try {
      write(pixels, batch, slot);
    } finally {
      pixels.release();
    }
  }

  /** Preprocesses one image into a new array, for tests and single images. */
  public float[] preprocess(byte[] encoded) {
    FloatBuffer one = FloatBuffer.allocate(tensorSize());
    preprocess(encoded, one, 0);
    return one.array();
  }

  /**
   * Decodes, resizes and crops: everything up to the tensor. The returned 8-bit image is
   * outputWidth x outputHeight, BGR or gray; the caller releases it.
   */
  public Mat decode(byte[] encoded) {
    boolean gray = spec.color() == ColorOrder.GRAY;
    Mat decoded = decoder.decode(encoded, gray, spec.resize().minimumSourceSide());
    Mat resized = resize(decoded);
    if (resized != decoded) {
      decoded.release();
    }
    Mat cropped = centreCrop(resized);
    if (cropped != resized) {
      resized.release();
    }
    return cropped;
  }

  /**
   * Resizes as PIL's antialiased bilinear filter does, which torchvision uses: when shrinking, each
   * output pixel is a triangle-weighted mean over a window as wide as twice the scale. That is a
   * triangle blur of the source followed by bilinear sampling at the output pixels' centres.
   */
  private Mat resize(Mat image) {
    int[] size = spec.resize().outputSize(image.cols(), image.rows());
    if (size[0] == image.cols() && size[1] == image.rows()) {
      return image;
    }
    double scaleX = (double) image.cols() / size[0];
    double scaleY = (double) image.rows() / size[1];
    Mat source = image;
    if (scaleX > 1 || scaleY > 1) {
      source = new Mat();
      Mat kx = Triangle.kernel(scaleX);
      Mat ky = Triangle.kernel(scaleY);
      Imgproc.sepFilter2D(image, source, -1, kx, ky, ANCHOR, 0, Core.BORDER_REFLECT);
      kx.release();
      ky.release();
    }
    Mat out = new Mat();
    Imgproc.resize(source, out, new Size(size[0], size[1]), 0, 0, Imgproc.INTER_LINEAR);
    if (source != image) {
      source.release();
    }
    return out;
  }

  /** torchvision's CenterCrop: offsets rounded half to even, zero padding when too small. */
  private Mat centreCrop(Mat image) {
    int cw = spec.cropWidth();
    int ch = spec.cropHeight();
    if (cw == 0 || (cw == image.cols() && ch == image.rows())) {
      return image;
    }
    Mat source = image;
    if (image.cols() < cw || image.rows() < ch) {
      int padX = Math.max(0, cw - image.cols());
      int padY = Math.max(0, ch - image.rows());
      source = new Mat();
      Core.copyMakeBorder(
          image,
          source,
          padY / 2,
          (padY + 1) / 2,
          padX / 2,
          (padX + 1) / 2,
          Core.BORDER_CONSTANT,
          Scalar.all(0));
    }
    int top = (int) Math.rint((source.rows() - ch) / 2.0);
    int left = (int) Math.rint((source.cols() - cw) / 2.0);
    Mat view = source.submat(new Rect(left, top, cw, ch));
    Mat cropped = view.clone();
    view.release();
    if (source != image) {
      source.release();
    }
    return cropped;
  }

  /** Writes an outputWidth x outputHeight 8-bit image into the batch as normalized floats. */
  public void write(Mat image, FloatBuffer batch, int slot) {
    Scratch s = scratch.get();
    image.get(0, 0, s.bytes);
    int channels = sourceChannel.length;
    int pixels = spec.outputWidth() * spec.outputHeight();
    int srcChannels = image.channels();
    float[] out = s.floats;
    if (spec.layout() == Layout.NCHW) {
      for (int c = 0; c < channels; c++) {
        float[] table = lut[c];
        int src = sourceChannel[c];
        int base = c * pixels;
        for (int i = 0; i < pixels; i++) {
          out[base + i] = table[s.bytes[i * srcChannels + src] & 0xff];
        }
      }
    } else {
      for (int i = 0; i < pixels; i++) {
        for (int c = 0; c < channels; c++) {
          out[i * channels + c] = lut[c][s.bytes[i * srcChannels + sourceChannel[c]] & 0xff];
        }
      }
    }
    batch.put(slot * tensorSize(), out, 0, tensorSize());
  }

  private record Scratch(byte[] bytes, float[] floats) {}
}
