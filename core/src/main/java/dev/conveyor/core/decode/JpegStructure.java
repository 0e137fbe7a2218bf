package dev.conveyor.core.decode;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.util.Arrays;

/**
 * Reads a JPEG's marker segments up to its scan: the frame size, the EXIF segment, and whether the
 * file is whole. libjpeg decodes damaged or truncated files into partly grey images with only a
 * warning; a whole file has an unbroken chain of segments from its start to a frame header and a
 * scan, and an end-of-image marker after the scan's data, which entropy-coded bytes never mimic.
 */
final class JpegStructure {
  private static final int SOS = 0xDA;
  private static final int EOI = 0xD9;
  private static final int APP1 = 0xE1;

  private JpegStructure() {}

  /** What the segments say. {@code exif} is the APP1 EXIF payload, or null. */
  record Info(int width, int height, byte[] exif) {}

  static boolean isJpeg(byte[] b) {
    return b.length >= 3 && (b[0] & 0xff) == 0xFF && (b[1] & 0xff) == 0xD8 && (b[2] & 0xff) == 0xFF;
  }

  /**
   * @throws ConveyorException {@code CORRUPT} when the segments are broken or the file truncated
   */
  static Info read(byte[] b) {
    int i = 2;
    int width = -1;
    int height = -1;
    byte[] exif = null;
    while (i + 1 < b.length) {
      if ((b[i] & 0xff) != 0xFF) {
        throw corrupt("the JPEG is damaged: no marker at byte " + i);
      }
      int marker = b[i + 1] & 0xff;
      if (marker == 0xFF) {
        i++; // fill byte
        continue;
      }
      if (marker == 0x01 || marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7)) {
        i += 2;
        continue;
      }
      if (marker == EOI || i + 3 >= b.length) {
        break;
      }
      int length = u16(b, i + 2);
      int body = i + 4;
      if (length < 2 || i + 2 + length > b.length) {
        throw corrupt("the JPEG is damaged: a segment at byte " + i + " runs past the end");
      }
      if (isFrame(marker) && length >= 7) {
        height = u16(b, body + 1);
        width = u16(b, body + 3);
      } else if (marker == APP1 && exif == null && isExif(b, body, length - 2)) {
        exif = Arrays.copyOfRange(b, body, i + 2 + length);
      } else if (marker == SOS) {
        if (width < 0) {
          throw corrupt("the JPEG is damaged: its scan comes before any frame header");
        }
        requireEnd(b, i + 2 + length);
        return new Info(width, height, exif);
      }
      i += 2 + length;
    }
    throw corrupt("the JPEG is truncated: it ends before its image data");
  }

  private static void requireEnd(byte[] b, int scanStart) {
    for (int i = b.length - 2; i >= scanStart; i--) {
      if (b[i] == (byte) 0xFF && b[i + 1] == (byte) EOI) {
        return;
      }
    }
    throw corrupt("the JPEG is truncated: its scan data has no end-of-image marker");
  }

  private static boolean isFrame(int marker) {
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
  }

  private static boolean isExif(byte[] b, int offset, int length) {
    return length > 6
        && b[offset] == 'E'
        && b[offset + 1] == 'x'
        && b[offset + 2] == 'i'
        && b[offset + 3] == 'f'
        && b[offset + 4] == 0
        && b[offset + 5] == 0;
  }

  private static int u16(byte[] b, int i) {
    return ((b[i] & 0xff) << 8) | (b[i + 1] & 0xff);
  }

  private static ConveyorException corrupt(String message) {
    return new ConveyorException(ErrorCode.CORRUPT, message);
  }
}
