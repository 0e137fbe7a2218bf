package dev.conveyor.core.decode;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import javax.imageio.ImageIO;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.imgproc.Imgproc;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes encoded images to upright 8-bit BGR or grayscale OpenCV matrices, safely: the header is
 * checked against {@link ImageLimits} first, EXIF orientation is applied, and every failure becomes
 * a {@link ConveyorException} with a code. Large JPEGs are decoded at 1/2, 1/4 or 1/8 size by DCT
 * scaling when the caller needs fewer pixels.
 *
 * <p>The caller owns the returned {@link Mat} and must {@link Mat#release() release} it.
 */
public final class ImageDecoder {
  private static final Logger LOG = LoggerFactory.getLogger(ImageDecoder.class);
  private static final int[] REDUCTIONS = {8, 4, 2};
  private static final List<JpegDecoder> JPEG_DECODERS = jpegDecoders();

  private final ImageLimits limits;

  public ImageDecoder(ImageLimits limits) {
    OpenCv.load();
    this.limits = limits;
  }

  public ImageLimits limits() {
    return limits;
  }

  /** The JPEG decoder tried first: TurboJPEG when installed, else OpenCV. */
  public static String jpegDecoderName() {
    return JPEG_DECODERS.get(0).name();
  }

  /** Every JpegDecoder that loads here, best first; one whose library is missing is skipped. */
  private static List<JpegDecoder> jpegDecoders() {
    List<JpegDecoder> found = new ArrayList<>();
    Iterator<JpegDecoder> providers = ServiceLoader.load(JpegDecoder.class).iterator();
    while (true) {
      try {
        if (!providers.hasNext()) {
          break;
        }
        found.add(providers.next());
      } catch (ServiceConfigurationError | LinkageError | IllegalStateException e) {
        LOG.info("a JPEG decoder is not usable here, skipped: {}", rootMessage(e));
      }
    }
    found.add(new OpenCvJpegDecoder());
    found.sort(Comparator.comparingInt(JpegDecoder::priority).reversed());
    LOG.info("JPEG decoder: {}", found.get(0).name());
    return List.copyOf(found);
  }

  private static String rootMessage(Throwable e) {
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    return root.toString();
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
    Mat stored =
        switch (header.format()) {
          case GIF -> decodeWithImageIo(bytes, gray);
          case JPEG -> decodeJpeg(bytes, header, gray, reduction(header, minShorterSide));
          default -> OpenCvJpegDecoder.decode(bytes, header, OpenCvJpegDecoder.flags(gray, 1));
        };
    Mat upright = ExifOrientation.apply(stored, header.orientation());
    if (upright != stored) {
      stored.release();
    }
    return upright;
  }

  private static Mat decodeJpeg(byte[] bytes, ImageHeader header, boolean gray, int reduction) {
    for (JpegDecoder decoder : JPEG_DECODERS) {
      Mat image = decoder.decode(bytes, header, gray, reduction);
      if (image != null) {
        return image;
      }
    }
    throw new ConveyorException(
        ErrorCode.UNSUPPORTED_FORMAT, "no decoder handles this JPEG's colour space");
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

  private static Mat decodeWithImageIo(byte[] bytes, boolean gray) {
    BufferedImage decoded;
    try {
      decoded = ImageIO.read(new ByteArrayInputStream(bytes));
    } catch (IOException | RuntimeException e) {
      throw new ConveyorException(ErrorCode.CORRUPT, "the image is truncated or damaged");
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
