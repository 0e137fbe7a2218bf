package dev.conveyor.core.decode;

import org.opencv.core.Mat;

/**
 * Decodes JPEGs, optionally at 1/2, 1/4 or 1/8 size through DCT scaling. Found with {@link
 * java.util.ServiceLoader}: the fastest available implementation is used (TurboJPEG's SIMD decoder
 * from the {@code conveyor-turbojpeg} module when the system library is installed), else OpenCV's.
 */
public interface JpegDecoder {

  /**
   * Decodes a JPEG whose structure {@link ImageHeader} has checked.
   *
   * @param gray one gray channel instead of three BGR channels
   * @param reduction 1, 2, 4 or 8
   * @return the stored image (EXIF orientation not applied), or null when this decoder does not
   *     handle the file's colour space, so the next one should
   * @throws dev.conveyor.core.ConveyorException {@code CORRUPT} when the data cannot be decoded
   */
  Mat decode(byte[] jpeg, ImageHeader header, boolean gray, int reduction);

  /** Larger is preferred when several are available. */
  int priority();

  /** A name for logs. */
  String name();
}
