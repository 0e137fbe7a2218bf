package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import dev.conveyor.testing.Ports;
import dev.conveyor.testing.TestProcesses;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** {@code ./conveyor serve} as a process on a free port, ready when its health check answers. */
final class ServeProcess implements AutoCloseable {
  final Process process;
  final String base;
  final Path err;
  final HttpClient http = HttpClient.newHttpClient();

  private ServeProcess(Process process, String base, Path err) {
    this.process = process;
    this.base = base;
    this.err = err;
  }

  static ServeProcess start(Path root, Path dir, String... args) throws Exception {
    return start(root, dir, Map.of(), args);
  }

  /** The same, with {@code environment} added to the process's. */
  static ServeProcess start(Path root, Path dir, Map<String, String> environment, String... args)
      throws Exception {
    int port = Ports.free();
    List<String> command = new ArrayList<>(List.of(root.resolve("conveyor").toString(), "serve"));
    command.addAll(List.of(args));
    command.addAll(List.of("--port", Integer.toString(port)));
    Path err = dir.resolve("serve.err");
    ProcessBuilder b =
        new ProcessBuilder(command)
            .redirectOutput(dir.resolve("serve.out").toFile())
            .redirectError(err.toFile());
    b.environment().putAll(environment);
    Process p = b.start();
    ServeProcess serve = new ServeProcess(p, "http://127.0.0.1:" + port, err);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (true) {
      try {
        if (serve.get("/v2/health/ready").statusCode() == 200) {
          return serve;
        }
      } catch (IOException notYet) {
        assertThat(p.isAlive()).as(Files.readString(err)).isTrue();
        assertThat(System.nanoTime()).as("serve did not start in time").isLessThan(deadline);
        Thread.sleep(200);
      }
    }
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  JsonNode getJson(String path) throws Exception {
    return Json.mapper().readTree(get(path).body());
  }

  HttpRequest post(String path, String contentType, byte[] body) {
    return HttpRequest.newBuilder(URI.create(base + path))
        .header("Content-Type", contentType)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body))
        .build();
  }

  @Override
  public void close() throws Exception {
    TestProcesses.kill(process);
  }
}
