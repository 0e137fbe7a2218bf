package dev.conveyor.core.image;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;

/**
 * Decodes encoded images to 8-bit BGR or grayscale OpenCV matrices, safely: the header is checked
 * against {@link ImageLimits} first, EXIF orientation is applied, and every failure becomes a
 * {@link ConveyorException} with a code. Large JPEGs are decoded at 1/2, 1/4 or 1/8 size by
 * libjpeg-turbo's DCT scaling when the caller needs fewer pixels than that.
 *
 * <p>The caller owns the returned {@link Mat} and must {@link Mat#release() release} it.
 */
public final class ImageDecoder {
  private static final int[] REDUCTIONS = {8, 4, 2};

  private final ImageLimits limits;

  public ImageDecoder(ImageLimits limits) {
    OpenCv.load();
    this.limits = limits;
  }

  public ImageLimits limits() {
    return limits;
  }

  /**
   * Decodes an image.
   *
   * @param bytes the encoded image
   * @param gray decode to one gray channel instead of three BGR channels
   * @param minShorterSide the smallest shorter side the caller resizes to; 0 for full size. A JPEG
   *     may be decoded reduced, to no less than twice this.
   */
  public Mat decode(byte[] bytes, boolean gray, int minShorterSide) {
    ImageHeader header = ImageHeader.read(bytes, limits);
    return switch (header.format()) {
      case GIF -> decodeWithImageIo(bytes, gray);
      case JPEG -> {
        JpegStructure.check(bytes);
        yield decodeWithOpenCv(bytes, flags(gray, reduction(header, minShorterSide)), header);
      }
      default -> decodeWithOpenCv(bytes, flags(gray, 1), header);
    };
  }

  /**
   * The largest DCT scale factor that keeps the shorter side at least twice {@code minSide}: the
   * resize after it then still averages over two or more source pixels per output pixel, which
   * keeps the result within a grey level or so of a full-size decode.
   */
  static int reduction(ImageHeader header, int minSide) {
    if (minSide <= 0) {
      return 1;
    }
    int shorter = Math.min(header.width(), header.height());
    for (int r : REDUCTIONS) {
      if ((shorter + r - 1) / r >= 2 * minSide) {
        return r;
      }
    }
    return 1;
  }

  private static int flags(boolean gray, int reduction) {
    return switch (reduction) {
      case 2 -> gray ? Imgcodecs.IMREAD_REDUCED_GRAYSCALE_2 : Imgcodecs.IMREAD_REDUCED_COLOR_2;
      case 4 -> gray ? Imgcodecs.IMREAD_REDUCED_GRAYSCALE_4 : Imgcodecs.IMREAD_REDUCED_COLOR_4;
      case 8 -> gray ? Imgcodecs.IMREAD_REDUCED_GRAYSCALE_8 : Imgcodecs.IMREAD_REDUCED_COLOR_8;
      default -> gray ? Imgcodecs.IMREAD_GRAYSCALE : Imgcodecs.IMREAD_COLOR;
    };
  }

  private static Mat decodeWithOpenCv(byte[] bytes, int flags, ImageHeader header) {
    MatOfByte encoded = new MatOfByte(bytes);
    try {
      Mat image = Imgcodecs.imdecode(encoded, flags);
      if (image.empty()) {
        image.release();
        throw new ConveyorException(
            ErrorCode.CORRUPT,
            "the %s image (%dx%d) is truncated or damaged and cannot be decoded"
                .formatted(header.format(), header.width(), header.height()));
      }
      return image;
    } finally {
      encoded.release();
    }
  }

  private static Mat decodeWithImageIo(byte[] bytes, boolean gray) {
    BufferedImage decoded;
    try {
      decoded = ImageIO.read(new ByteArrayInputStream(bytes));
    } catch (IOException | RuntimeException e) {
      throw new ConveyorException(
          ErrorCode.CORRUPT, "the image is truncated or damaged: " + e.getMessage());
    }
    if (decoded == null) {
      throw new ConveyorException(ErrorCode.CORRUPT, "the image cannot be decoded");
    }
    BufferedImage bgr =
        new BufferedImage(decoded.getWidth(), decoded.getHeight(), BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = bgr.createGraphics();
    try {
      g.drawImage(decoded, 0, 0, null);
    } finally {
      g.dispose();
    }
    byte[] pixels = ((DataBufferByte) bgr.getRaster().getDataBuffer()).getData();
    Mat mat = new Mat(bgr.getHeight(), bgr.getWidth(), CvType.CV_8UC3);
    mat.put(0, 0, pixels);
    if (!gray) {
      return mat;
    }
    Mat grayMat = new Mat();
    Imgproc.cvtColor(mat, grayMat, Imgproc.COLOR_BGR2GRAY);
    mat.release();
    return grayMat;
  }
}
