package dev.conveyor.spark;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.cli.Main;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.testing.TestImages;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code conveyor spark}, with this module on the class path as the launcher puts it. */
@Timeout(180)
class SparkCommandIT {

  private record Run(int code, String out, String err) {}

  private static Run conveyor(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void aFolderIsAnsweredOnStdoutWithTheRuntime(@TempDir Path dir) {
    long files =
        ImageFiles.expand(List.of(TestImages.folder())).stream()
            .filter(f -> f.toFile().length() > 0)
            .count();
    Run run =
        conveyor(
            "spark",
            "--source",
            TestImages.folder().toString(),
            "-p",
            "2",
            "--checkpoints",
            dir.resolve("checkpoints").toString(),
            "--model",
            SparkJobIT.MODEL);
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out().lines().filter(l -> l.startsWith("{\"id\""))).hasSize((int) files);
    assertThat(run.err()).containsPattern("classified " + files + " images \\(\\d+ errors\\) in");
    assertThat(run.err()).contains("images/s, local[2]");
  }

  @Test
  void aRedisListIsRefusedWithTheFix() {
    Run run =
        conveyor("spark", "--source", "redis://127.0.0.1:1?mode=list", "--model", SparkJobIT.MODEL);
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("add mode=stream");
  }
}
