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
}
