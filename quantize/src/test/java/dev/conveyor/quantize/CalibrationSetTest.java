package dev.conveyor.quantize;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CalibrationSetTest {
  @TempDir Path dir;

  @Test
  void picksTheSameImagesEachRunAndHoldsOutAsManyOthers() throws Exception {
    Path images = folder("images", 50);
    CalibrationSet first = CalibrationSet.pick(images, null, 20);
    CalibrationSet again = CalibrationSet.pick(images, null, 20);
    assertThat(first).isEqualTo(again);
    assertThat(first.chosen()).hasSize(20);
    assertThat(first.heldOut()).hasSize(20).doesNotContainAnyElementsOf(first.chosen());
    Set<Path> seen = new HashSet<>(first.chosen());
    seen.addAll(first.heldOut());
    assertThat(seen).hasSize(40);

    CalibrationSet small = CalibrationSet.pick(images, null, 30);
    assertThat(small.heldOut()).as("what is left after 30").hasSize(20);
  }

  @Test
  void aHoldoutFolderIsComparedOnWhole() throws Exception {
    Path holdout = folder("holdout", 7);
    CalibrationSet set = CalibrationSet.pick(folder("images", 10), holdout, 5);
    assertThat(set.chosen()).hasSize(5);
    assertThat(set.heldOut()).hasSize(7).allMatch(p -> p.startsWith(holdout));
  }

  @Test
  void aMissingOrEmptyFolderIsASettingError() throws Exception {
    Files.createDirectories(dir.resolve("empty"));
    assertThatThrownBy(() -> CalibrationSet.pick(dir.resolve("nowhere"), null, 5))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("no folder at")
        .extracting(e -> ((ConveyorException) e).code())
        .isEqualTo(ErrorCode.INVALID_SETTING);
    assertThatThrownBy(() -> CalibrationSet.pick(dir.resolve("empty"), null, 5))
        .hasMessageContaining("no images in");
  }

  private Path folder(String name, int files) throws Exception {
    Path folder = Files.createDirectories(dir.resolve(name).resolve("class"));
    for (int i = 0; i < files; i++) {
      Files.write(folder.resolve(String.format("%03d.png", i)), new byte[] {(byte) i});
    }
    return dir.resolve(name);
  }
}
