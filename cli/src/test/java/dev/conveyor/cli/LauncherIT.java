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
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();

  @TempDir Path dir;

  private record Run(int code, String out, String err) {}

  private Run conveyor(String... args) throws IOException, InterruptedException {
    return conveyor(java.util.Map.of(), args);
  }

  private Run conveyor(java.util.Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(ROOT.resolve("conveyor").toString());
    command.addAll(List.of(args));
    Path out = dir.resolve("out.txt");
    Path err = dir.resolve("err.txt");
    ProcessBuilder b =
        new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
    b.environment().putAll(env);
    Process p = b.start();
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
    // stderr is a file: a bar only when asked for
    Run run =
        conveyor(
            java.util.Map.of("CONVEYOR_PROGRESS", "always"),
            "classify",
            "--model",
            model.toString(),
            images.toString());
    assertThat(run.code()).as(run.err()).isZero();
    List<String> lines = run.out().lines().toList();
    assertThat(lines).hasSize((int) files).allMatch(l -> l.startsWith("{\"id\":"));
    assertThat(lines)
        .anyMatch(l -> l.contains("\"status\":\"error\"") && l.contains("\"CORRUPT\""));
    assertThat(lines).anyMatch(l -> l.contains("cmyk-red.jpg") && l.contains("\"label\":\"red\""));
    assertThat(run.err()).as("a progress bar for more than 20 files").contains("classify");

    Run quiet = conveyor("classify", "--model", model.toString(), images.toString());
    assertThat(quiet.code()).as(quiet.err()).isZero();
    assertThat(quiet.out().lines()).hasSize((int) files);
    assertThat(quiet.err()).as("no bar redrawn into a file").doesNotContain("img/s");
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
  void serveAnswersSeed003sPredictFormWithTheBundledModel() throws Exception {
    Process server =
        new ProcessBuilder(ROOT.resolve("conveyor").toString(), "serve", "--port", "0")
            .redirectErrorStream(true)
            .start();
    try {
      var out =
          new java.io.BufferedReader(
              new java.io.InputStreamReader(
                  server.getInputStream(), java.nio.charset.StandardCharsets.UTF_8));
      String line;
      int port = -1;
      while ((line = out.readLine()) != null) {
        var m =
            java.util.regex.Pattern.compile("conveyor serve: http://[^:]+:(\\d+)/").matcher(line);
        if (m.find()) {
          port = Integer.parseInt(m.group(1));
          break;
        }
      }
      assertThat(port).as("the server said where it listens").isPositive();
      byte[] png =
          dev.conveyor.train.PngExport.png(
              dev.conveyor.train.FashionMnist.load(
                      dev.conveyor.train.FashionMnist.DEFAULT_DIR,
                      dev.conveyor.train.FashionMnist.Split.TEST)
                  .head(3),
              2);
      String boundary = "b0undary";
      java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
      body.writeBytes(
          ("--"
                  + boundary
                  + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"trouser.png\"\r\nContent-Type: image/png\r\n\r\n")
              .getBytes(java.nio.charset.StandardCharsets.UTF_8));
      body.writeBytes(png);
      body.writeBytes(
          ("\r\n--" + boundary + "--\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
      var response =
          java.net.http.HttpClient.newHttpClient()
              .send(
                  java.net.http.HttpRequest.newBuilder(
                          java.net.URI.create("http://127.0.0.1:" + port + "/predict"))
                      .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                      .POST(
                          java.net.http.HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
                      .build(),
                  java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(response.body()).startsWith("{\"success\":true").contains("\"label\":\"Trouser\"");
    } finally {
      server.destroy();
      assertThat(server.waitFor(20, TimeUnit.SECONDS)).as("stops on SIGTERM").isTrue();
    }
  }

  @Test
  void aMissingDefaultModelIsAUsageErrorWithTheFix() throws Exception {
    Path absent = dir.resolve("nothing.onnx");
    Run run = conveyor("classify", "--model", absent.toString(), "x.jpg");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("pass --model PATH");
  }
}
