package dev.conveyor.core.decode;

import nu.pattern.OpenCV;

/** Loads OpenCV's native library, bundled in the {@code org.openpnp:opencv} jar, once. */
public final class OpenCv {
  private static volatile boolean loaded;

  private OpenCv() {}

  public static void load() {
    if (!loaded) {
      synchronized (OpenCv.class) {
        if (!loaded) {
          OpenCV.loadLocally();
          loaded = true;
        }
      }
    }
  }
}
