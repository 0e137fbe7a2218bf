package dev.conveyor.core.decode;

import static org.assertj.core.api.Assertions.assertThat;

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

  @Test
  void loadsAndRuns() {
    OpenCv.load();
    assertThat(org.opencv.core.Core.getVersionString()).startsWith("4.9.0");
  }
}
