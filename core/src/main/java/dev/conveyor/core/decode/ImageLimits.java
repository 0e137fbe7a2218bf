package dev.conveyor.core.decode;

/**
 * Bounds checked before an image is decoded, so that no input can exhaust memory.
 *
 * @param maxBytes the largest encoded image accepted
 * @param maxPixels the most pixels (width × height) an image's header may declare
 */
public record ImageLimits(long maxBytes, long maxPixels) {
  /** 20 MiB and 50 megapixels. */
  public static final ImageLimits DEFAULT = new ImageLimits(20L << 20, 50_000_000L);

  public ImageLimits {
    if (maxBytes <= 0 || maxPixels <= 0) {
      throw new IllegalArgumentException("image limits must be positive");
    }
  }
}
