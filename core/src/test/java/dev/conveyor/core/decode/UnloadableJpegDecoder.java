package dev.conveyor.core.decode;

import org.opencv.core.Mat;

/**
 * A JPEG decoder whose native library is missing, as TurboJPEG's is where Debian's package is not
 * installed: listed as a service in core's tests, it must be skipped, not break decoding.
 */
public final class UnloadableJpegDecoder implements JpegDecoder {
  public UnloadableJpegDecoder() {
    throw new UnsatisfiedLinkError("no unloadable-jpeg in java.library.path");
  }

  @Override
  public Mat decode(byte[] jpeg, ImageHeader header, boolean gray, int reduction) {
    throw new AssertionError("never constructed");
  }

  @Override
  public int priority() {
    return 100;
  }

  @Override
  public String name() {
    return "unloadable";
  }
}
