package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.testing.TestImages;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.onnx.testing.TestModels.Colour;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code ./conveyor} launcher at the repository root, run as a user runs it. */
class LauncherIT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.root", "..")).toAbsolutePath().normalize();

  @TempDir Path dir;

  private record Run(int code, String out, String err) {}

  private Run conveyor(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(ROOT.resolve("conveyor").toString());
    command.addAll(List.of(args));
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    Process p =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("conveyor finished").isTrue();
    return new Run(
        p.exitValue(),
        Files.readString(out, StandardCharsets.UTF_8),
        Files.readString(err, StandardCharsets.UTF_8));
  }

  @Test
  void helpListsTheCommands() throws Exception {
    Run run = conveyor("--help");
    assertThat(run.code()).isZero();
    assertThat(run.out()).contains("classify").contains("bench").contains("Usage: conveyor");
  }

  @Test
  void classifiesAFolderOfGoodOddAndBrokenImagesOneJsonLineEach() throws Exception {
    Path model = TestModels.writeColour(dir.resolve("colours.onnx"), Colour.imagenetSized());
    Path images = TestImages.folder();
    long files;
    try (var list = Files.list(images)) {
      files = list.count();
    }
    Run run = conveyor("classify", "--model", model.toString(), images.toString());
    assertThat(run.code()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).hasSize((int) files).allMatch(l -> l.startsWith("{\"id\":"));
    assertThat(lines)
        .anyMatch(l -> l.contains("\"status\":\"error\"") && l.contains("\"CORRUPT\""));
    assertThat(lines).anyMatch(l -> l.contains("cmyk-red.jpg") && l.contains("\"label\":\"red\""));
    assertThat(run.err()).as("a progress bar for more than 20 files").contains("classify");
  }

  @Test
  void classifiesWithTheBundledModelWhenNoModelIsGiven() throws Exception {
    Path png = dir.resolve("trouser.png");
    java.nio.file.Files.write(
        png,
        dev.conveyor.train.PngExport.png(
            dev.conveyor.train.FashionMnist.load(
                    dev.conveyor.train.FashionMnist.DEFAULT_DIR,
                    dev.conveyor.train.FashionMnist.Split.TEST)
                .head(3),
            2));
    Run run = conveyor("classify", png.toString());
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).contains("\"model\":\"fashion-mnist\"").contains("\"label\":\"Trouser\"");
  }

  @Test
  void aMissingDefaultModelIsAUsageErrorWithTheFix() throws Exception {
    Path absent = dir.resolve("nothing.onnx");
    Run run = conveyor("classify", "--model", absent.toString(), "x.jpg");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("pass --model PATH");
  }
}
