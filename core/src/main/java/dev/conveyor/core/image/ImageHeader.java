package dev.conveyor.core.image;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * An image's format and size, read from its header alone, before any pixel is decoded.
 *
 * @param format the encoded format
 * @param width width in pixels, as stored (before EXIF orientation)
 * @param height height in pixels, as stored
 */
public record ImageHeader(ImageFormat format, int width, int height) {

  public long pixels() {
    return (long) width * height;
  }

  /**
   * Reads the header of an encoded image and checks it against the limits.
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
          return new ImageHeader(format, reader.getWidth(0), reader.getHeight(0));
        } catch (IOException | RuntimeException e) {
          throw new ConveyorException(
              ErrorCode.CORRUPT,
              "the %s header cannot be read: %s".formatted(format, e.getMessage()));
        } finally {
          reader.dispose();
        }
      }
    } catch (IOException e) {
      throw new ConveyorException(ErrorCode.CORRUPT, "the image cannot be read: " + e.getMessage());
    }
    throw new ConveyorException(
        ErrorCode.UNSUPPORTED_FORMAT,
        "not a JPEG, PNG, BMP, GIF or TIFF image (first bytes: %s)".formatted(hexPrefix(bytes)));
  }

  private static String hexPrefix(byte[] bytes) {
    StringBuilder hex = new StringBuilder();
    for (int i = 0; i < Math.min(8, bytes.length); i++) {
      hex.append("%02x".formatted(bytes[i] & 0xff));
    }
    return hex.toString();
  }
}
