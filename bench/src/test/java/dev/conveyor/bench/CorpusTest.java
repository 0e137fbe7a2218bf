package dev.conveyor.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CorpusTest {
  @TempDir Path dir;

  @Test
  void aFolderIsReadSortedWithoutHiddenFilesAndCycled() throws Exception {
    Files.write(Files.createDirectories(dir.resolve("b")).resolve("two.jpg"), new byte[] {2});
    Files.write(dir.resolve("a.jpg"), new byte[] {1});
    Files.write(dir.resolve(".hidden.jpg"), new byte[] {9});
    Files.write(Files.createDirectories(dir.resolve(".cache")).resolve("x.jpg"), new byte[] {9});
    Corpus corpus = Corpus.read(dir);
    assertThat(corpus.size()).isEqualTo(2);
    assertThat(corpus.image(0)).containsExactly(1);
    assertThat(corpus.image(1)).containsExactly(2);
    assertThat(corpus.image(2)).containsExactly(1);
  }

  @Test
  void anEmptyFolderIsRefused() throws Exception {
    assertThatThrownBy(() -> Corpus.read(Files.createDirectories(dir.resolve("empty"))))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.FETCH_FAILED))
        .hasMessageContaining("no files under");
  }

  @Test
  void generatedImagesAreDistinctJpegs() {
    Corpus corpus = Corpus.generate(2);
    assertThat(corpus.image(0)).startsWith(0xFF, 0xD8).isNotEqualTo(corpus.image(1));
  }
}
