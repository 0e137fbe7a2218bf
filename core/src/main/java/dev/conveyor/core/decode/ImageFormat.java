package dev.conveyor.core.decode;

import java.util.Locale;

/** The encoded formats Conveyor decodes. */
public enum ImageFormat {
  JPEG,
  PNG,
  BMP,
  GIF,
  TIFF;

  /** Maps an ImageIO format name ({@code "jpeg"}, {@code "png"}, ...) to a format, or null. */
  static ImageFormat fromImageIoName(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "jpeg", "jpg" -> JPEG;
      case "png" -> PNG;
      case "bmp" -> BMP;
      case "gif" -> GIF;
      case "tif", "tiff" -> TIFF;
      default -> null;
    };
  }

  /** Whether bytes start like an encoded image (a format Conveyor decodes, or WebP). */
  public static boolean looksLikeImage(byte[] b) {
    if (b.length < 4) {
      return false;
    }
    int b0 = b[0] & 0xff;
    int b1 = b[1] & 0xff;
    return (b0 == 0xff && b1 == 0xd8) // JPEG
        || (b0 == 0x89 && b1 == 'P' && b[2] == 'N' && b[3] == 'G')
        || (b0 == 'G' && b1 == 'I' && b[2] == 'F')
        || (b0 == 'B' && b1 == 'M')
        || (b0 == 'I' && b1 == 'I' && b[2] == 42)
        || (b0 == 'M' && b1 == 'M' && b[3] == 42)
        || (b0 == 'R' && b1 == 'I' && b[2] == 'F' && b[3] == 'F');
  }
}
