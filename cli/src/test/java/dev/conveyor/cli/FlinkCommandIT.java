package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** {@code conveyor flink} on its embedded Flink cluster. */
@Timeout(180)
class FlinkCommandIT {
  private static final String MODEL =
      Path.of(System.getProperty("conveyor.home", ".."), "models", "fashion-mnist.onnx").toString();

  @Test
  void aFolderIsClassifiedByParallelTasksAndTheRuntimeReported() throws Exception {
    long files;
    try (Stream<Path> list = Files.list(TestImages.folder())) {
      files = list.filter(Files::isRegularFile).count();
    }
    CliRun run =
        CliRun.of(
            "flink",
            "--source",
            TestImages.folder().toString(),
            "-p",
            "2",
            "--model",
            MODEL,
            "--batch",
            "4");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.jsonLines()).hasSize((int) files);
    assertThat(run.err()).containsPattern("classified " + files + " images \\(\\d+ errors\\) in");
    assertThat(run.err()).contains("images/s, 2 parallel tasks");
  }

  @Test
  void aMistypedSettingStopsTheJobBeforeItStarts() {
    CliRun run = CliRun.of("flink", "--source", TestImages.folder().toString(), "--top", "0");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err()).contains("top must be a positive whole number, not '0'");
  }
}
