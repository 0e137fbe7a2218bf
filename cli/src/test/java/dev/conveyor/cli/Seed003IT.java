package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.Json;
import dev.conveyor.testing.RedisServer;
import dev.conveyor.testing.Requirements;
import dev.conveyor.testing.TestProcesses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seed 003's contract with unchanged clients: the seed's client, in Python
 * (cli/src/test/scripts/seed003-client.py, RPUSH the JSON to image_queue, poll GET id every 0.25
 * s), against two worker processes on {@code profile=seed003}; tensors made with numpy and PIL, and
 * encoded images, each answered once in the seed's shape with the predictions {@code classify}
 * gives for the same file.
 */
@Timeout(240)
class Seed003IT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();
  private static final Path PYTHON = Path.of("/usr/bin/python3");

  @TempDir Path dir;
  private final List<Process> processes = new ArrayList<>();
  private RedisServer redis;

  @AfterEach
  void stop() throws Exception {
    for (Process p : processes) {
      TestProcesses.kill(p);
    }
    if (redis != null) {
      redis.close();
    }
  }

  private Process worker(String host, String uri, Path model) throws Exception {
    Process p = ColourModel.worker(ROOT, dir, host, uri, model, "--batch", "4");
    processes.add(p);
    return p;
  }

  private void awaitStarted(String host, Process p) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    Path err = dir.resolve(host + ".err");
    while (!(Files.exists(err) && Files.readString(err).contains("conveyor worker:"))) {
      assertThat(p.isAlive()).as(Files.exists(err) ? Files.readString(err) : host).isTrue();
      assertThat(System.nanoTime()).as(host + " did not start").isLessThan(deadline);
      Thread.sleep(100);
    }
  }

  /** Runs the seed's client; its JSON lines. */
  private List<JsonNode> client(List<Path> files, String... options) throws Exception {
    List<String> command =
        new ArrayList<>(
            List.of(
                PYTHON.toString(),
                ROOT.resolve("cli/src/test/scripts/seed003-client.py").toString(),
                "--redis",
                "127.0.0.1:" + redis.port(),
                "--clients",
                "4"));
    command.addAll(List.of(options));
    files.forEach(f -> command.add(f.toString()));
    Path out = dir.resolve("client.out");
    Path err = dir.resolve("client.err");
    Process p =
        new ProcessBuilder(command)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .start();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("the client finished").isTrue();
    assertThat(p.exitValue()).as(Files.readString(err)).isZero();
    List<JsonNode> lines = new ArrayList<>();
    for (String line : Files.readAllLines(out)) {
      lines.add(Json.mapper().readTree(line));
    }
    return lines;
  }

  @Test
  void theSeedsClientGetsItsAnswersFromTwoWorkersForTensorsAndEncodedImages() throws Exception {
    Requirements.executable(PYTHON, "apt-get install python3-numpy python3-pil python3-redis");
    redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")), false);
    Path model = ColourModel.model(dir);
    List<Path> images = ColourModel.images(dir);
    String uri = redis.uri("profile=seed003");
    Process a = worker("host-a", uri, model);
    Process b = worker("host-b", uri, model);
    awaitStarted("host-a", a);
    awaitStarted("host-b", b);

    // what classify says of the same files
    List<String> args = new ArrayList<>(List.of("classify"));
    args.addAll(ColourModel.options(model));
    images.forEach(f -> args.add(f.toString()));
    CliRun classify = CliRun.of(args.toArray(String[]::new));
    Map<String, JsonNode> expected = new HashMap<>();
    for (JsonNode r : classify.jsonLines()) {
      expected.put(r.get("source").asText(), r.get("predictions"));
    }
    assertThat(expected).hasSize(images.size());

    // each image four times, as tensors and as encoded files
    List<Path> sent = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      sent.addAll(images);
    }
    List<JsonNode> answers = new ArrayList<>(client(sent));
    answers.addAll(client(sent, "--encoded"));
    assertThat(answers).hasSize(2 * sent.size());

    Set<String> ids = new HashSet<>();
    for (JsonNode answer : answers) {
      ids.add(answer.get("id").asText());
      JsonNode got = answer.get("predictions");
      JsonNode want = expected.get(answer.get("file").asText());
      assertThat(got.isArray()).as("seed 003's shape: a list").isTrue();
      assertThat(got).as(answer.toString()).hasSize(want.size());
      for (int i = 0; i < want.size(); i++) {
        assertThat(got.get(i).fieldNames()).toIterable().containsExactly("label", "probability");
        assertThat(got.get(i).get("label").asText())
            .as(answer.toString())
            .isEqualTo(want.get(i).get("label").asText());
        assertThat(got.get(i).get("probability").asDouble())
            .isCloseTo(want.get(i).get("score").asDouble(), within(1e-4));
      }
    }
    assertThat(ids).as("every request its own answer").hasSize(answers.size());

    // each request classified once: one entry per request in the results stream, from both hosts
    assertThat(redis.cli("LLEN", "image_queue")).containsExactly("0");
    Set<String> hosts = new HashSet<>();
    List<String> answered = new ArrayList<>();
    for (String line : redis.cli("XRANGE", "conveyor:results", "-", "+")) {
      if (line.startsWith("{")) {
        JsonNode r = Json.mapper().readTree(line);
        hosts.add(r.get("host").asText());
        answered.add(r.get("id").asText());
      }
    }
    assertThat(answered).as("no request lost or repeated").hasSize(answers.size());
    assertThat(new HashSet<>(answered)).isEqualTo(ids);
    assertThat(hosts)
        .as("both consumers took requests")
        .containsExactlyInAnyOrder("host-a", "host-b");
    for (String id : ids) {
      assertThat(redis.cli("EXISTS", id)).as("the client deleted its answer").containsExactly("0");
    }
  }
}
