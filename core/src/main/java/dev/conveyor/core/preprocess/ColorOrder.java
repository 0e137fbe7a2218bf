package dev.conveyor.core.preprocess;

/** The channels a tensor holds, in order. */
public enum ColorOrder {
  RGB(3),
  BGR(3),
  GRAY(1);

  private final int channels;

  ColorOrder(int channels) {
    this.channels = channels;
  }

  public int channels() {
    return channels;
  }
}
