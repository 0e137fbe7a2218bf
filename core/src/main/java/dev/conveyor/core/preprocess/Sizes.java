package dev.conveyor.core.preprocess;

/** Parses sizes and number lists given on command lines and in job arguments. */
final class Sizes {
  private Sizes() {}

  /** Parses {@code N} or {@code WxH} into one or two positive integers. */
  static int[] parse(String text, String what) {
    String[] parts = text.trim().toLowerCase(java.util.Locale.ROOT).split("x");
    if (parts.length > 2) {
      throw new IllegalArgumentException(what + " must be N or WxH, not '" + text + "'");
    }
    int[] size = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        size[i] = Integer.parseInt(parts[i].trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(what + " must be N or WxH, not '" + text + "'");
      }
      if (size[i] <= 0) {
        throw new IllegalArgumentException(what + " sizes must be positive, not '" + text + "'");
      }
    }
    return size;
  }

  /** Parses one number or a comma-separated list of numbers. */
  static float[] floats(String text, String what) {
    String[] parts = text.split(",");
    float[] values = new float[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        values[i] = Float.parseFloat(parts[i].trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            what + " must be a number or a comma-separated list, not '" + text + "'");
      }
    }
    return values;
  }
}
