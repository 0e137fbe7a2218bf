package dev.conveyor.server;

/**
 * Which images the gallery serves: PNG, JPEG, GIF, WebP and BMP, recognised by their first bytes,
 * and served with the type those bytes say. What a caller declared is never believed: an upload
 * declared {@code image/png} that holds HTML or SVG is not an image here, so the gallery cannot be
 * made to serve a page in the server's origin.
 */
final class GalleryImages {
  private static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  private static final byte[] JPEG = {(byte) 0xff, (byte) 0xd8, (byte) 0xff};
  private static final byte[] GIF87 = {'G', 'I', 'F', '8', '7', 'a'};
  private static final byte[] GIF89 = {'G', 'I', 'F', '8', '9', 'a'};
  private static final byte[] RIFF = {'R', 'I', 'F', 'F'};
  private static final byte[] WEBP = {'W', 'E', 'B', 'P'};
  private static final byte[] BMP = {'B', 'M'};

  /** Why an image is not served, for the 404 that says so. */
  static final String NOT_SERVED =
      "that result's image is not a PNG, JPEG, GIF, WebP or BMP image, so it is not served";

  /** Why a result has no image in this server's gallery. */
  static final String NOT_KEPT =
      "that result's image is not kept: the gallery keeps PNG, JPEG, GIF, WebP and BMP images of"
          + " up to 1 MiB";

  private GalleryImages() {}

  /** The content type {@code bytes} are served with, or {@code null} when they are not served. */
  static String contentType(byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    if (at(bytes, 0, PNG)) {
      return "image/png";
    }
    if (at(bytes, 0, JPEG)) {
      return "image/jpeg";
    }
    if (at(bytes, 0, GIF87) || at(bytes, 0, GIF89)) {
      return "image/gif";
    }
    if (at(bytes, 0, RIFF) && at(bytes, 8, WEBP)) {
      return "image/webp";
    }
    if (at(bytes, 0, BMP) && bytes.length >= 18 && knownBitmapHeader(le32(bytes, 14))) {
      return "image/bmp";
    }
    return null;
  }

  /** "BM" alone is two letters any text may start with; the DIB header's size says more. */
  private static boolean knownBitmapHeader(long size) {
    return size == 12
        || size == 40
        || size == 52
        || size == 56
        || size == 64
        || size == 108
        || size == 124;
  }

  private static boolean at(byte[] bytes, int offset, byte[] magic) {
    if (bytes.length < offset + magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if (bytes[offset + i] != magic[i]) {
        return false;
      }
    }
    return true;
  }

  private static long le32(byte[] b, int i) {
    return (b[i] & 0xffL)
        | (b[i + 1] & 0xffL) << 8
        | (b[i + 2] & 0xffL) << 16
        | (b[i + 3] & 0xffL) << 24;
  }
}
