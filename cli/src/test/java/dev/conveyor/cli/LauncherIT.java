package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.testing.TestImages;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.onnx.testing.TestModels.Colour;
import dev.conveyor.train.FashionMnist;
import dev.conveyor.train.PngExport;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code ./conveyor} launcher at the repository root, run as a user runs it. */
class LauncherIT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();

  @TempDir Path dir;

  private record Run(int code, String out, String err) {}

  private Run conveyor(String... args) throws IOException, InterruptedException {
    return conveyor(Map.of(), args);
  }

  private Run conveyor(Map<String, String> env, String... args)
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
    Serve serve = serve(Map.of());
    try {
      HttpResponse<String> response = predictTrouser(serve.port());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      assertThat(response.body()).startsWith("{\"success\":true").contains("\"label\":\"Trouser\"");
    } finally {
      serve.process().destroy();
      assertThat(serve.process().waitFor(20, TimeUnit.SECONDS)).as("stops on SIGTERM").isTrue();
    }
  }

  /**
   * ONNX Runtime and OpenCV bring their native libraries inside their jars. Loaded by the jars' own
   * loaders, each JVM unpacks 85 MB of them into the temporary folder and deletes them only at a
   * clean exit, so a supervisor restarting killed workers filled the disk. They are loaded from a
   * shared cache instead, and a killed JVM leaves no file behind.
   */
  @Test
  void aKilledServerLeavesNoNativeLibrariesInTheTemporaryFolder() throws Exception {
    Path tmp = Files.createDirectory(dir.resolve("tmp"));
    Serve serve = serve(Map.of("CONVEYOR_JAVA_OPTS", "-Djava.io.tmpdir=" + tmp));
    try {
      HttpResponse<String> response = predictTrouser(serve.port());
      assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
      List<String> maps = Files.readAllLines(Path.of("/proc/" + serve.process().pid() + "/maps"));
      List<String> natives =
          maps.stream()
              .filter(l -> l.contains("libonnxruntime.so") || l.contains("libopencv_java"))
              .map(l -> l.substring(l.indexOf('/')))
              .distinct()
              .toList();
      assertThat(natives)
          .as("ONNX Runtime and OpenCV, loaded from the cache")
          .anyMatch(f -> f.endsWith("/libonnxruntime.so"))
          .anyMatch(f -> f.contains("/libopencv_java"))
          .allMatch(f -> f.contains("/conveyor/native/") && !f.startsWith(tmp.toString()));
    } finally {
      serve.process().destroyForcibly();
      assertThat(serve.process().waitFor(20, TimeUnit.SECONDS)).as("killed").isTrue();
    }
    try (Stream<Path> left = Files.walk(tmp)) {
      assertThat(
              left.filter(Files::isRegularFile)
                  .map(Path::toString)
                  .filter(f -> f.endsWith(".so") || f.contains("opencv") || f.contains("onnx"))
                  .toList())
          .as("native libraries a killed server left in its temporary folder")
          .isEmpty();
    }
  }

  private record Serve(Process process, int port) {}

  private Serve serve(Map<String, String> env) throws IOException {
    ProcessBuilder b =
        new ProcessBuilder(ROOT.resolve("conveyor").toString(), "serve", "--port", "0")
            .redirectErrorStream(true);
    b.environment().putAll(env);
    Process server = b.start();
    var out =
        new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
    Pattern listening = Pattern.compile("conveyor serve: http://[^:]+:(\\d+)/");
    String line;
    while ((line = out.readLine()) != null) {
      Matcher m = listening.matcher(line);
      if (m.find()) {
        return new Serve(server, Integer.parseInt(m.group(1)));
      }
    }
    server.destroyForcibly();
    throw new AssertionError("the server ended without saying where it listens");
  }

  private static HttpResponse<String> predictTrouser(int port)
      throws IOException, InterruptedException {
    byte[] png =
        PngExport.png(
            FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(3), 2);
    String boundary = "b0undary";
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(
        ("--"
                + boundary
                + "\r\nContent-Disposition: form-data; name=\"image\"; filename=\"trouser.png\"\r\nContent-Type: image/png\r\n\r\n")
            .getBytes(StandardCharsets.UTF_8));
    body.writeBytes(png);
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
    return HttpClient.newHttpClient()
        .send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/predict"))
                .timeout(Duration.ofSeconds(60))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray()))
                .build(),
            HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aMissingDefaultModelIsAUsageErrorWithTheFix() throws Exception {
    Path absent = dir.resolve("nothing.onnx");
    Run run = conveyor("classify", "--model", absent.toString(), "x.jpg");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("pass --model PATH");
  }
}
