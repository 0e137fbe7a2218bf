package dev.conveyor.core.preprocess;

import java.util.Locale;

/**
 * How an image is resized before cropping: its shorter side to a length (keeping the aspect ratio,
 * as torchvision's {@code Resize(int)}), to an exact size, or not at all.
 */
public record Resize(Mode mode, int width, int height) {
  public enum Mode {
    SHORTER_SIDE,
    EXACT,
    NONE
  }

  public static final Resize NONE = new Resize(Mode.NONE, 0, 0);

  public Resize {
    if (mode != Mode.NONE && (width <= 0 || height <= 0)) {
      throw new IllegalArgumentException("resize sizes must be positive");
    }
  }

  public static Resize shorterSide(int length) {
    return new Resize(Mode.SHORTER_SIDE, length, length);
  }

  public static Resize exact(int width, int height) {
    return new Resize(Mode.EXACT, width, height);
  }

  /** Parses {@code 256} (shorter side), {@code 224x224} (exact, width x height) or {@code none}. */
  public static Resize parse(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    if (s.equals("none")) {
      return NONE;
    }
    int[] size = Sizes.parse(s, "resize");
    return size.length == 1 ? shorterSide(size[0]) : exact(size[0], size[1]);
  }

  /** The output size for an input of {@code w} x {@code h}, as {@code {width, height}}. */
  int[] outputSize(int w, int h) {
    return switch (mode) {
      case NONE -> new int[] {w, h};
      case EXACT -> new int[] {width, height};
      case SHORTER_SIDE -> {
        // torchvision truncates the longer side: int(size * long / short)
        if (w <= h) {
          yield new int[] {width, (int) ((double) width * h / w)};
        }
        yield new int[] {(int) ((double) width * w / h), width};
      }
    };
  }

  /** The shortest side the decoder must keep for this resize to work from enough pixels. */
  int minimumSourceSide() {
    return switch (mode) {
      case NONE -> 0;
      case EXACT -> Math.max(width, height);
      case SHORTER_SIDE -> width;
    };
  }

  @Override
  public String toString() {
    return switch (mode) {
      case NONE -> "none";
      case EXACT -> width + "x" + height;
      case SHORTER_SIDE -> Integer.toString(width);
    };
  }
}
