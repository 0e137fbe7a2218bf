package dev.conveyor.core.decode;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * An image's format, size and EXIF orientation, read from its header alone, before any pixel is
 * decoded. JPEG and PNG headers are read directly; other formats through the JDK's ImageIO readers.
 *
 * @param format the encoded format
 * @param width width in pixels, as stored (before EXIF orientation)
 * @param height height in pixels, as stored
 * @param orientation EXIF orientation, 1 (as stored) to 8; always 1 for formats without EXIF
 */
public record ImageHeader(ImageFormat format, int width, int height, int orientation) {
  private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

  public long pixels() {
    return (long) width * height;
  }

  /**
   * Reads the header of an encoded image and checks it against the limits. A JPEG's structure is
   * checked whole: a truncated or damaged JPEG fails here.
   *
   * @throws ConveyorException with {@code EMPTY}, {@code TOO_LARGE}, {@code UNSUPPORTED_FORMAT} or
   *     {@code CORRUPT}
   */
  public static ImageHeader read(byte[] bytes, ImageLimits limits) {
    if (bytes == null || bytes.length == 0) {
      throw new ConveyorException(ErrorCode.EMPTY, "the image is empty (0 bytes)");
    }
    if (bytes.length > limits.maxBytes()) {
      throw new ConveyorException(
          ErrorCode.TOO_LARGE,
          "the image is %d bytes, over the limit of %d bytes"
              .formatted(bytes.length, limits.maxBytes()));
    }
    ImageHeader header = probe(bytes);
    if (header.width <= 0 || header.height <= 0) {
      throw new ConveyorException(ErrorCode.CORRUPT, "the image header declares no pixels");
    }
    if (header.pixels() > limits.maxPixels()) {
      throw new ConveyorException(
          ErrorCode.TOO_LARGE,
          "the image declares %dx%d = %d pixels, over the limit of %d pixels"
              .formatted(header.width, header.height, header.pixels(), limits.maxPixels()));
    }
    return header;
  }

  private static ImageHeader probe(byte[] bytes) {
    if (JpegStructure.isJpeg(bytes)) {
      JpegStructure.Info info = JpegStructure.read(bytes);
      return new ImageHeader(
          ImageFormat.JPEG, info.width(), info.height(), ExifOrientation.read(info.exif()));
    }
    if (startsWith(bytes, PNG_SIGNATURE)) {
      if (bytes.length < 24
          || bytes[12] != 'I'
          || bytes[13] != 'H'
          || bytes[14] != 'D'
          || bytes[15] != 'R') {
        throw new ConveyorException(ErrorCode.CORRUPT, "the PNG is damaged: it has no IHDR header");
      }
      return new ImageHeader(
          ImageFormat.PNG, s32(bytes, 16), s32(bytes, 20), ExifOrientation.NORMAL);
    }
    return probeWithImageIo(bytes);
  }

  private static ImageHeader probeWithImageIo(byte[] bytes) {
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
      while (readers.hasNext()) {
        ImageReader reader = readers.next();
        ImageFormat format = ImageFormat.fromImageIoName(reader.getFormatName());
        if (format == null) {
          continue;
        }
        try {
          reader.setInput(in, true, true);
          return new ImageHeader(
              format, reader.getWidth(0), reader.getHeight(0), ExifOrientation.NORMAL);
        } catch (IOException | RuntimeException e) {
          throw new ConveyorException(
              ErrorCode.CORRUPT, "the %s header cannot be read".formatted(format));
        } finally {
          reader.dispose();
        }
      }
    } catch (IOException e) {
      throw new ConveyorException(ErrorCode.CORRUPT, "the image cannot be read");
    }
    throw new ConveyorException(
        ErrorCode.UNSUPPORTED_FORMAT, "not a JPEG, PNG, BMP, GIF or TIFF image");
  }

  private static boolean startsWith(byte[] bytes, byte[] prefix) {
    if (bytes.length < prefix.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (bytes[i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  /** A big-endian 32-bit value; PNG sizes above 2^31 read as negative and are refused. */
  private static int s32(byte[] b, int i) {
    return ((b[i] & 0xff) << 24)
        | ((b[i + 1] & 0xff) << 16)
        | ((b[i + 2] & 0xff) << 8)
        | (b[i + 3] & 0xff);
  }
}
