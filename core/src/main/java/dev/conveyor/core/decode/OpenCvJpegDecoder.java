package dev.conveyor.core.decode;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Decodes with OpenCV's imgcodecs (libjpeg-turbo without SIMD in the bundled build, libpng, ...):
 * always available, and the decoder of every format but GIF.
 */
public final class OpenCvJpegDecoder implements JpegDecoder {
  @Override
  public Mat decode(byte[] jpeg, ImageHeader header, boolean gray, int reduction) {
    return decode(jpeg, header, flags(gray, reduction));
  }

  /** Decodes any format OpenCV reads, as stored (EXIF orientation not applied). */
  static Mat decode(byte[] bytes, ImageHeader header, int flags) {
    MatOfByte encoded = new MatOfByte(bytes);
    try {
      Mat image = Imgcodecs.imdecode(encoded, flags | Imgcodecs.IMREAD_IGNORE_ORIENTATION);
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

  static int flags(boolean gray, int reduction) {
    return switch (reduction) {
      case 2 -> gray ? Imgcodecs.IMREAD_REDUCED_GRAYSCALE_2 : Imgcodecs.IMREAD_REDUCED_COLOR_2;
      case 4 -> gray ? Imgcodecs.IMREAD_REDUCED_GRAYSCALE_4 : Imgcodecs.IMREAD_REDUCED_COLOR_4;
      case 8 -> gray ? Imgcodecs.IMREAD_REDUCED_GRAYSCALE_8 : Imgcodecs.IMREAD_REDUCED_COLOR_8;
      default -> gray ? Imgcodecs.IMREAD_GRAYSCALE : Imgcodecs.IMREAD_COLOR;
    };
  }

  @Override
  public int priority() {
    return 0;
  }

  @Override
  public String name() {
    return "OpenCV";
  }
}
