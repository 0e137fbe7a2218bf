package dev.conveyor.turbojpeg;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.image.ImageHeader;
import dev.conveyor.core.image.JpegDecoder;
import org.libjpegturbo.turbojpeg.TJ;
import org.libjpegturbo.turbojpeg.TJDecompressor;
import org.libjpegturbo.turbojpeg.TJException;
import org.libjpegturbo.turbojpeg.TJScalingFactor;
import org.opencv.core.CvType;
import org.opencv.core.Mat;

/**
 * Decodes JPEGs with libjpeg-turbo's SIMD decoder through its TurboJPEG Java bindings: the same
 * code {@code tjbench} measures. CMYK and YCCK files are left to OpenCV, which converts them.
 * Progressive files are limited in scans, so a hostile file cannot make decoding take forever.
 */
public final class TurboJpegDecoder implements JpegDecoder {
  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[0]);
  private static final TJScalingFactor[] FACTORS = TJ.getScalingFactors();

  /** Fails with a LinkageError here, not later, when the native library is missing. */
  public TurboJpegDecoder() {
    try {
      new TJDecompressor().close();
    } catch (TJException e) {
      throw new IllegalStateException("TurboJPEG does not start: " + e.getMessage(), e);
    }
  }

  @Override
  public Mat decode(byte[] jpeg, ImageHeader header, boolean gray, int minShorterSide) {
    try (TJDecompressor tj = new TJDecompressor(jpeg)) {
      int colorspace = tj.getColorspace();
      if (colorspace == TJ.CS_CMYK || colorspace == TJ.CS_YCCK) {
        return null;
      }
      TJScalingFactor scale = scale(tj.getWidth(), tj.getHeight(), minShorterSide);
      int width = scale.getScaled(tj.getWidth());
      int height = scale.getScaled(tj.getHeight());
      int channels = gray ? 1 : 3;
      int size = width * height * channels;
      byte[] pixels = scratch(size);
      try {
        tj.decompress(
            pixels, 0, 0, width, 0, height, gray ? TJ.PF_GRAY : TJ.PF_BGR, TJ.FLAG_LIMITSCANS);
      } catch (TJException e) {
        if (e.getErrorCode() != TJ.ERR_WARNING) {
          throw e;
        }
        // a warning (such as stray bytes between markers): the image is decoded, as libjpeg does
      }
      Mat image = new Mat(height, width, gray ? CvType.CV_8UC1 : CvType.CV_8UC3);
      image.put(0, 0, pixels, 0, size);
      return image;
    } catch (TJException e) {
      throw new ConveyorException(
          ErrorCode.CORRUPT, "the JPEG cannot be decoded: " + e.getMessage().strip());
    }
  }

  private static byte[] scratch(int size) {
    byte[] buffer = SCRATCH.get();
    if (buffer.length < size) {
      buffer = new byte[size];
      SCRATCH.set(buffer);
    }
    return buffer;
  }

  /**
   * The smallest of libjpeg-turbo's scaling factors (1/8, 1/4, 3/8, … 7/8, 1) that keeps the
   * shorter side at least {@code minShorterSide}: a 640x480 photo resized to 256 decodes at 5/8,
   * 400x300, with the IDCT and colour conversion done for 39% of the pixels.
   */
  static TJScalingFactor scale(int width, int height, int minShorterSide) {
    TJScalingFactor best = new TJScalingFactor(1, 1);
    int shorter = Math.min(width, height);
    for (TJScalingFactor f : FACTORS) {
      if (f.getNum() <= f.getDenom()
          && f.getScaled(shorter) >= minShorterSide
          && f.getScaled(shorter) < best.getScaled(shorter)) {
        best = f;
      }
    }
    return best;
  }

  @Override
  public int priority() {
    return 10;
  }

  @Override
  public String name() {
    return "TurboJPEG";
  }
}
