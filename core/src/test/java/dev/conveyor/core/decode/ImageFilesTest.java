package dev.conveyor.core.decode;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(10)
class ImageFilesTest {
  @TempDir Path dir;

  @Test
  void aFolderGivenByALinkIsWalkedAndItsFilesNamedUnderTheLink() throws IOException {
    Path photos = Files.createDirectories(dir.resolve("data/photos/day1"));
    Files.write(photos.resolve("b.jpg"), new byte[] {1});
    Files.write(photos.resolve("a.jpg"), new byte[] {1});
    Files.write(photos.resolve(".hidden.jpg"), new byte[] {1});
    Path link = Files.createSymbolicLink(dir.resolve("photos"), dir.resolve("data/photos"));

    assertThat(ImageFiles.expand(List.of(link)))
        .containsExactly(link.resolve("day1/a.jpg"), link.resolve("day1/b.jpg"));
    assertThat(ImageFiles.expand(List.of(dir.resolve("data"))))
        .as("a folder as it is")
        .containsExactly(
            dir.resolve("data/photos/day1/a.jpg"), dir.resolve("data/photos/day1/b.jpg"));
    assertThat(ImageFiles.expand(List.of(dir.resolve("missing.jpg"))))
        .as("a path that is not there is kept, to get its error result")
        .containsExactly(dir.resolve("missing.jpg"));
  }
}
