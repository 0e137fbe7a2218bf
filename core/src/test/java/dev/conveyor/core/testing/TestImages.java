package dev.conveyor.core.testing;

import dev.conveyor.core.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The image fixtures under {@code src/test/resources/images}, made by
 * src/test/scripts/make-test-images.sh.
 */
public final class TestImages {
  private TestImages() {}

  /**
   * Hostile fixtures and the error each must get wherever it arrives: a truncated JPEG, headers
   * that claim far more pixels than their bytes hold, and a format Conveyor does not decode.
   */
  public static final Map<String, ErrorCode> HOSTILE =
      Map.of(
          "truncated.jpg", ErrorCode.CORRUPT,
          "gif-bomb.gif", ErrorCode.TOO_LARGE,
          "huge-dimensions.jpg", ErrorCode.TOO_LARGE,
          "red.webp", ErrorCode.UNSUPPORTED_FORMAT);

  public static byte[] bytes(String name) {
    try (InputStream in =
        Objects.requireNonNull(
            TestImages.class.getResourceAsStream("/images/" + name), "no fixture " + name)) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path unpacked;

  /**
   * The folder holding the fixtures, for tests that walk files. Inside a jar (other modules use
   * core's test-jar) they are copied to a temporary folder once.
   */
  public static synchronized Path folder() {
    try {
      URI uri = TestImages.class.getResource("/images/plasma-640x480.jpg").toURI();
      if (!uri.getScheme().equals("jar")) {
        return Path.of(uri).getParent();
      }
      if (unpacked == null) {
        unpacked = unpack(uri);
      }
      return unpacked;
    } catch (URISyntaxException | IOException e) {
      throw new IllegalStateException("cannot reach the image fixtures", e);
    }
  }

  private static Path unpack(URI uri) throws IOException {
    Path target = Files.createTempDirectory("conveyor-test-images");
    target.toFile().deleteOnExit();
    try (FileSystem jar = FileSystems.newFileSystem(uri, Map.of());
        Stream<Path> files = Files.list(jar.getPath("/images"))) {
      for (Path f : files.toList()) {
        Path copy = target.resolve(f.getFileName().toString());
        Files.copy(f, copy);
        copy.toFile().deleteOnExit();
      }
    }
    return target;
  }
}
