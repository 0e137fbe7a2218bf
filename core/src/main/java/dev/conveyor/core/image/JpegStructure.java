package dev.conveyor.core.image;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;

/**
 * Checks that a JPEG is whole before libjpeg sees it: libjpeg decodes damaged or truncated files
 * into partly grey images with only a warning, which OpenCV does not pass on. A whole file has an
 * unbroken chain of marker segments from its start to a frame header and a scan, and an
 * end-of-image marker after the scan's data, which entropy-coded bytes can never mimic.
 */
final class JpegStructure {
  private static final int SOS = 0xDA;
  private static final int EOI = 0xD9;

  private JpegStructure() {}

  static void check(byte[] b) {
    int scanStart = scanStart(b);
    for (int i = b.length - 2; i >= scanStart; i--) {
      if (b[i] == (byte) 0xFF && b[i + 1] == (byte) EOI) {
        return;
      }
    }
    throw corrupt("the JPEG is truncated: its scan data has no end-of-image marker");
  }

  /** Walks the marker segments and returns where the first scan's data begins. */
  private static int scanStart(byte[] b) {
    int i = 2;
    boolean frame = false;
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
      int length = ((b[i + 2] & 0xff) << 8) | (b[i + 3] & 0xff);
      if (length < 2 || i + 2 + length > b.length) {
        throw corrupt("the JPEG is damaged: a segment at byte " + i + " runs past the end");
      }
      if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
        frame = true;
      }
      if (marker == SOS) {
        if (!frame) {
          throw corrupt("the JPEG is damaged: its scan comes before any frame header");
        }
        return i + 2 + length;
      }
      i += 2 + length;
    }
    throw corrupt("the JPEG is truncated: it ends before its image data");
  }

  private static ConveyorException corrupt(String message) {
    return new ConveyorException(ErrorCode.CORRUPT, message);
  }
}
