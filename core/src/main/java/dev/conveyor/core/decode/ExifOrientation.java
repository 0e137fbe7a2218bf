package dev.conveyor.core.decode;

import com.drew.imaging.jpeg.JpegSegmentType;
import com.drew.metadata.Metadata;
import com.drew.metadata.exif.ExifIFD0Directory;
import com.drew.metadata.exif.ExifReader;
import java.util.List;
import org.opencv.core.Core;
import org.opencv.core.Mat;

/** EXIF orientation (1 to 8): reading it from a JPEG's EXIF segment, and applying it. */
final class ExifOrientation {
  static final int NORMAL = 1;

  private ExifOrientation() {}

  /** The orientation in an APP1 EXIF payload; {@link #NORMAL} when absent or unreadable. */
  static int read(byte[] exifSegment) {
    if (exifSegment == null) {
      return NORMAL;
    }
    Metadata metadata = new Metadata();
    new ExifReader().readJpegSegments(List.of(exifSegment), metadata, JpegSegmentType.APP1);
    ExifIFD0Directory ifd0 = metadata.getFirstDirectoryOfType(ExifIFD0Directory.class);
    Integer value = ifd0 == null ? null : ifd0.getInteger(ExifIFD0Directory.TAG_ORIENTATION);
    return value != null && value >= 1 && value <= 8 ? value : NORMAL;
  }

  /** Turns a stored image upright; returns the same Mat for {@link #NORMAL}, else a new one. */
  static Mat apply(Mat stored, int orientation) {
    if (orientation == NORMAL) {
      return stored;
    }
    Mat out = new Mat();
    switch (orientation) {
      case 2 -> Core.flip(stored, out, 1);
      case 3 -> Core.rotate(stored, out, Core.ROTATE_180);
      case 4 -> Core.flip(stored, out, 0);
      case 5 -> Core.transpose(stored, out);
      case 6 -> Core.rotate(stored, out, Core.ROTATE_90_CLOCKWISE);
      case 7 -> {
        Core.transpose(stored, out);
        Core.flip(out, out, -1);
      }
      case 8 -> Core.rotate(stored, out, Core.ROTATE_90_COUNTERCLOCKWISE);
      default -> stored.copyTo(out);
    }
    return out;
  }
}
