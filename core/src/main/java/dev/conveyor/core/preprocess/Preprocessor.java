package dev.conveyor.core.preprocess;

import dev.conveyor.core.decode.ImageDecoder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.Point;
import org.opencv.core.Rect;
import org.opencv.core.Scalar;
import org.opencv.core.Size;
import org.opencv.imgproc.Imgproc;

/**
 * Turns encoded images into model input, written straight into a slot of a batch buffer: decode
 * (reduced when the resize allows), resize, centre crop, then channel order, scale, mean and std as
 * one vectorized multiply-add per channel, in the requested layout. Thread-safe.
 */
public final class Preprocessor {
  private static final Point ANCHOR = new Point(-1, -1);

  private final Preprocessing spec;
  private final ImageDecoder decoder;
  private final double[] alpha;
  private final double[] beta;
  private final int[] sourceChannel;

  public Preprocessor(Preprocessing spec, ImageDecoder decoder) {
    this.spec = spec;
    this.decoder = decoder;
    // (v * scale - mean) / std = v * alpha + beta
    this.alpha = spec.gains();
    this.beta = spec.offsets();
    // decoded images are BGR (or one gray channel); map each output channel to its source
    this.sourceChannel =
        switch (spec.color()) {
          case RGB -> new int[] {2, 1, 0};
          case BGR -> new int[] {0, 1, 2};
          case GRAY -> new int[] {0};
        };
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

  /** Bytes one image occupies in a batch buffer. */
  public int tensorBytes() {
    return tensorSize() * Float.BYTES;
  }

  /**
   * Decodes and preprocesses one image into slot {@code slot} of a direct batch buffer.
   *
   * @throws dev.conveyor.core.ConveyorException when the image is empty, too large, unsupported or
   *     corrupt; the buffer is then left untouched
   */
  public void preprocess(byte[] encoded, ByteBuffer batch, int slot) {
    Mat pixels = pixels(encoded);
    try {
      write(pixels, batch, slot);
    } finally {
      pixels.release();
    }
  }

  /** Preprocesses one image into a new array, for tests and single images. */
  public float[] preprocess(byte[] encoded) {
    ByteBuffer one = ByteBuffer.allocateDirect(tensorBytes()).order(ByteOrder.nativeOrder());
    preprocess(encoded, one, 0);
    float[] out = new float[tensorSize()];
    one.asFloatBuffer().get(out);
    return out;
  }

  /**
   * Decodes, resizes and crops: the 8-bit pixels of the tensor, outputWidth x outputHeight, BGR or
   * gray. The caller releases them.
   */
  public Mat pixels(byte[] encoded) {
    Mat decoded = decoded(encoded);
    try {
      return resizeAndCrop(decoded);
    } finally {
      decoded.release();
    }
  }

  /**
   * The decoding step alone: the image as {@link #pixels} decodes it, reduced by the decoder when
   * the resize allows, BGR or gray, before resizing. The caller releases it.
   */
  public Mat decoded(byte[] encoded) {
    boolean gray = spec.color() == ColorOrder.GRAY;
    return decoder.decode(encoded, gray, spec.resize().minimumSourceSide());
  }

  /**
   * Resizes as PIL's antialiased bilinear filter does, which torchvision uses, then centre crops as
   * torchvision's CenterCrop does (offsets rounded half to even). When shrinking, each output pixel
   * is a triangle-weighted mean over a window twice the scale wide: a triangle blur of the source,
   * then bilinear sampling at the output pixels' centres. Only the part of the source that the crop
   * keeps is blurred, and only the cropped pixels are sampled.
   */
  private Mat resizeAndCrop(Mat image) {
    int[] size = spec.resize().outputSize(image.cols(), image.rows());
    int outW = spec.cropWidth() > 0 ? spec.cropWidth() : size[0];
    int outH = spec.cropHeight() > 0 ? spec.cropHeight() : size[1];
    int left = (int) Math.rint((size[0] - outW) / 2.0);
    int top = (int) Math.rint((size[1] - outH) / 2.0);
    if (left < 0 || top < 0) {
      return padded(image, size, outW, outH);
    }
    double sx = (double) image.cols() / size[0];
    double sy = (double) image.rows() / size[1];
    if (sx == 1 && sy == 1) {
      return image.submat(new Rect(left, top, outW, outH)).clone();
    }
    // source pixels the crop reads, with the blur's reach on each side
    int rx = (int) Math.ceil(Math.max(sx, 1)) + 1;
    int ry = (int) Math.ceil(Math.max(sy, 1)) + 1;
    int x0 = Math.max(0, (int) Math.floor(left * sx) - rx);
    int y0 = Math.max(0, (int) Math.floor(top * sy) - ry);
    int x1 = Math.min(image.cols(), (int) Math.ceil((left + outW) * sx) + rx);
    int y1 = Math.min(image.rows(), (int) Math.ceil((top + outH) * sy) + ry);
    Mat region = image.submat(new Rect(x0, y0, x1 - x0, y1 - y0));
    Mat source = region;
    if (sx > 1 || sy > 1) {
      source = new Mat();
      Mat kx = Triangle.kernel(sx);
      Mat ky = Triangle.kernel(sy);
      Imgproc.sepFilter2D(region, source, -1, kx, ky, ANCHOR, 0, Core.BORDER_REFLECT);
      kx.release();
      ky.release();
    }
    // output pixel (x, y) samples the source at ((left + x + 0.5) * sx - 0.5, ...), as resize does
    Mat map = new Mat(2, 3, CvType.CV_64F);
    map.put(0, 0, sx, 0, (left + 0.5) * sx - 0.5 - x0, 0, sy, (top + 0.5) * sy - 0.5 - y0);
    Mat out = new Mat();
    Imgproc.warpAffine(
        source,
        out,
        map,
        new Size(outW, outH),
        Imgproc.INTER_LINEAR | Imgproc.WARP_INVERSE_MAP,
        Core.BORDER_REPLICATE);
    map.release();
    if (source != region) {
      source.release();
    }
    region.release();
    return out;
  }

  /** An image smaller than the crop: resized whole, then centred on black, as torchvision pads. */
  private Mat padded(Mat image, int[] size, int outW, int outH) {
    Mat resized = new Mat();
    Imgproc.resize(image, resized, new Size(size[0], size[1]), 0, 0, Imgproc.INTER_AREA);
    Mat canvas = new Mat();
    int padX = Math.max(0, outW - size[0]);
    int padY = Math.max(0, outH - size[1]);
    Core.copyMakeBorder(
        resized,
        canvas,
        padY / 2,
        (padY + 1) / 2,
        padX / 2,
        (padX + 1) / 2,
        Core.BORDER_CONSTANT,
        Scalar.all(0));
    resized.release();
    int left = (int) Math.rint((canvas.cols() - outW) / 2.0);
    int top = (int) Math.rint((canvas.rows() - outH) / 2.0);
    Mat view = canvas.submat(new Rect(left, top, outW, outH));
    Mat out = view.clone();
    view.release();
    canvas.release();
    return out;
  }

  /**
   * Writes an outputWidth x outputHeight 8-bit image into slot {@code slot} of a direct,
   * native-order batch buffer as normalized floats, in the spec's channel order and layout.
   */
  public void write(Mat image, ByteBuffer batch, int slot) {
    int w = spec.outputWidth();
    int h = spec.outputHeight();
    int channels = sourceChannel.length;
    int offset = slot * tensorBytes();
    if (channels == 1) {
      Mat plane = new Mat(h, w, CvType.CV_32FC1, batch.slice(offset, tensorBytes()));
      image.convertTo(plane, CvType.CV_32F, alpha[0], beta[0]);
      plane.release();
    } else if (spec.layout() == Layout.NCHW) {
      List<Mat> planes = new ArrayList<>(3);
      Core.split(image, planes);
      int planeBytes = w * h * Float.BYTES;
      for (int c = 0; c < channels; c++) {
        Mat plane =
            new Mat(h, w, CvType.CV_32FC1, batch.slice(offset + c * planeBytes, planeBytes));
        planes.get(sourceChannel[c]).convertTo(plane, CvType.CV_32F, alpha[c], beta[c]);
        plane.release();
      }
      planes.forEach(Mat::release);
    } else {
      Mat ordered = image;
      if (spec.color() == ColorOrder.RGB) {
        ordered = new Mat();
        Imgproc.cvtColor(image, ordered, Imgproc.COLOR_BGR2RGB);
      }
      Mat pixels = new Mat(h, w, CvType.CV_32FC3, batch.slice(offset, tensorBytes()));
      ordered.convertTo(pixels, CvType.CV_32F);
      Core.multiply(pixels, new Scalar(alpha), pixels);
      Core.add(pixels, new Scalar(beta), pixels);
      pixels.release();
      if (ordered != image) {
        ordered.release();
      }
    }
  }
}
