package dev.conveyor.core.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * The image fixtures under {@code src/test/resources/images}, made by scripts/make-test-images.sh.
 */
public final class TestImages {
  private TestImages() {}

  public static byte[] bytes(String name) {
    try (InputStream in =
        Objects.requireNonNull(
            TestImages.class.getResourceAsStream("/images/" + name), "no fixture " + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The folder holding the fixtures, for tests that walk files. */
  public static Path folder() {
    try {
      return Path.of(TestImages.class.getResource("/images/plasma-640x480.jpg").toURI())
          .getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
