package dev.conveyor.core.decode;

import dev.conveyor.core.NativeLibraries;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import nu.pattern.OpenCV;

/**
 * Loads OpenCV's native library, bundled in the {@code org.openpnp:opencv} jar, once: from the
 * shared cache of {@link NativeLibraries}, or with the jar's own loader: on a platform the jar has
 * no library for under the name below, or in a second class loader of the same JVM.
 */
public final class OpenCv {
  /** The library's name in {@code org.openpnp:opencv} 4.9.0; a test checks that the jar has it. */
  static final String LIBRARY = "opencv_java490";

  private static volatile boolean loaded;

  private OpenCv() {}

  public static void load() {
    if (!loaded) {
      synchronized (OpenCv.class) {
        if (!loaded) {
          String file = System.mapLibraryName(LIBRARY);
          synchronized (NativeLibraries.jvmLock()) {
            Optional<Path> dir =
                NativeLibraries.unpack(LIBRARY, "nu/pattern/opencv/" + folder(), List.of(file));
            if (dir.isPresent()) {
              System.load(dir.get().resolve(file).toString());
            } else {
              OpenCV.loadLocally();
            }
          }
          loaded = true;
        }
      }
    }
  }

  /** The jar's folder for this platform: {@code linux/x86_64}, {@code osx/ARMv8}, ... */
  static String folder() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String system = os.contains("linux") ? "linux" : os.contains("mac") ? "osx" : "windows";
    String cpu =
        switch (arch) {
          case "amd64", "x86_64" -> "x86_64";
          case "aarch64", "arm64" -> "ARMv8";
          case "arm" -> "ARMv7";
          default -> "x86_32";
        };
    return system + "/" + cpu;
  }
}
