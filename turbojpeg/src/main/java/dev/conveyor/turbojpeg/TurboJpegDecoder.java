package dev.conveyor.turbojpeg;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.decode.ImageHeader;
import dev.conveyor.core.decode.JpegDecoder;
import org.libjpegturbo.turbojpeg.TJ;
import org.libjpegturbo.turbojpeg.TJDecompressor;
import org.libjpegturbo.turbojpeg.TJException;
import org.opencv.core.CvType;
import org.opencv.core.Mat;

/**
 * Decodes JPEGs with libjpeg-turbo's SIMD decoder through its TurboJPEG Java bindings: the same
 * code {@code tjbench} measures. CMYK and YCCK files are left to OpenCV, which converts them.
 * Progressive files are limited in scans, so a hostile file cannot make decoding take forever.
 */
public final class TurboJpegDecoder implements JpegDecoder {
  private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[0]);

  /** Fails with a LinkageError here, not later, when the native library is missing. */
  public TurboJpegDecoder() {
    try {
      new TJDecompressor().close();
    } catch (TJException e) {
      throw new IllegalStateException("TurboJPEG does not start: " + e.getMessage(), e);
    }
  }

  @Override
  public Mat decode(byte[] jpeg, ImageHeader header, boolean gray, int reduction) {
    try (TJDecompressor tj = new TJDecompressor(jpeg)) {
      int colorspace = tj.getColorspace();
      if (colorspace == TJ.CS_CMYK || colorspace == TJ.CS_YCCK) {
        return null;
      }
      int width =
          tj.getScaledWidth(ceilDiv(tj.getWidth(), reduction), ceilDiv(tj.getHeight(), reduction));
      int height =
          tj.getScaledHeight(ceilDiv(tj.getWidth(), reduction), ceilDiv(tj.getHeight(), reduction));
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

  private static int ceilDiv(int a, int b) {
    return (a + b - 1) / b;
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
