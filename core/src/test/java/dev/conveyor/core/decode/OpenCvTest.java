package dev.conveyor.core.decode;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

class OpenCvTest {
  @Test
  void theJarBundlesTheLibraryUnderTheNameLoadedFromTheCache() {
    String resource =
        "nu/pattern/opencv/" + OpenCv.folder() + "/" + System.mapLibraryName(OpenCv.LIBRARY);
    assertThat(getClass().getClassLoader().getResource(resource))
        .as("%s: the org.openpnp:opencv version changed; change OpenCv.LIBRARY with it", resource)
        .isNotNull();
  }

  /** Loads OpenCV in the class loader this class was loaded by; answers its version. */
  public static final class Probe implements Supplier<String> {
    @Override
    public String get() {
      OpenCv.load();
      return org.opencv.core.Core.getVersionString();
    }
  }

  /**
   * A JVM loads a native library file into one class loader only, and Flink gives each job a class
   * loader of its own: OpenCV loads in each.
   */
  @Test
  void loadsInEveryClassLoaderOfOneJvm() throws Exception {
    assertThat(new Probe().get()).startsWith("4.9.0");
    URL[] classPath =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .map(OpenCvTest::url)
            .toArray(URL[]::new);
    for (int i = 0; i < 2; i++) {
      try (URLClassLoader job =
          new URLClassLoader(classPath, ClassLoader.getPlatformClassLoader())) {
        @SuppressWarnings("unchecked")
        Supplier<String> probe =
            (Supplier<String>)
                Class.forName(Probe.class.getName(), true, job).getConstructor().newInstance();
        assertThat(probe.get()).as("class loader %d", i).startsWith("4.9.0");
      }
    }
  }

  private static URL url(String path) {
    try {
      return Path.of(path).toUri().toURL();
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
