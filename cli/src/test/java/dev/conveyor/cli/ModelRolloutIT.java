package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.model.ModelRepository;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Replies;
import dev.conveyor.testing.RedisServer;
import dev.conveyor.testing.TestProcesses;
import dev.conveyor.train.FashionMnist;
import dev.conveyor.train.PngExport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two {@code conveyor worker --models} processes on a real Redis stream, under constant load, while
 * a new version of the model is published, then a corrupt one: nothing is lost or fails, every
 * result names the version that made it, and the corrupt version changes nothing.
 */
@Timeout(180)
class ModelRolloutIT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();

  @TempDir Path dir;
  private final List<Process> workers = new ArrayList<>();
  private RedisServer redis;

  @AfterEach
  void stop() throws Exception {
    for (Process p : workers) {
      TestProcesses.kill(p);
    }
    if (redis != null) {
      redis.close();
    }
  }

  private static void await(BooleanSupplier done, Duration within, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + within.toNanos();
    while (!done.getAsBoolean()) {
      assertThat(System.nanoTime()).as(what).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void aNewVersionRollsOutUnderLoadWithNothingLostAndACorruptOneChangesNothing() throws Exception {
    redis = RedisServer.start(Files.createDirectories(dir.resolve("redis")), false);
    String uri = redis.uri("mode=stream");
    Path repo = Files.createDirectories(dir.resolve("repo"));
    Files.writeString(
        Files.createDirectories(repo.resolve("fashion")).resolve("config.properties"),
        "preset=fashion-mnist\n");
    // a version's file is written beside its place, then moved there: never seen half written
    assertThat(
            ModelRepository.create(repo)
                .publish("fashion", ROOT.resolve("models/fashion-mnist.onnx")))
        .isEqualTo(1);
    for (int w = 0; w < 2; w++) {
      workers.add(
          new ProcessBuilder(
                  ROOT.resolve("conveyor").toString(),
                  "worker",
                  "--transport",
                  uri,
                  "--models",
                  repo.toString(),
                  "--default-model",
                  "fashion",
                  "--models-poll",
                  "1",
                  "--batch",
                  "8")
              .redirectOutput(dir.resolve("worker-" + w + ".out").toFile())
              .redirectError(dir.resolve("worker-" + w + ".err").toFile())
              .start());
    }
    FashionMnist test =
        FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(8);
    List<byte[]> images = new ArrayList<>();
    for (int i = 0; i < test.count(); i++) {
      images.add(PngExport.png(test, i));
    }

    Map<String, Long> sentAt = new ConcurrentHashMap<>();
    Map<String, ClassifyResult> results = new ConcurrentHashMap<>();
    Map<String, Long> latencyNanos = new ConcurrentHashMap<>();
    AtomicBoolean loading = new AtomicBoolean(true);
    try (Replies client = Brokers.open(uri).client()) {
      Thread reader =
          new Thread(
              () -> {
                while (loading.get() || results.size() < sentAt.size()) {
                  client.poll(
                      r -> {
                        Long at = sentAt.get(r.id());
                        if (at != null && results.putIfAbsent(r.id(), r) == null) {
                          latencyNanos.put(r.id(), System.nanoTime() - at);
                        }
                      });
                }
              });
      reader.start();
      // several callers' worth of constant load: a request every 10 ms, half naming the model
      Thread load =
          new Thread(
              () -> {
                try {
                  for (int i = 0; loading.get(); i++) {
                    ImageRequest r =
                        ImageRequest.ofBytes("img-" + i, images.get(i % images.size()), null)
                            .withModel(i % 2 == 0 ? null : "fashion");
                    sentAt.put(r.id(), System.nanoTime());
                    client.send(r, Duration.ofSeconds(10));
                    Thread.sleep(10);
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              });
      load.start();

      await(() -> results.size() >= 100, Duration.ofSeconds(60), "version 1 answers");
      // the workers are warm: three seconds of steady load on version 1
      long steadyFrom = System.nanoTime();
      Thread.sleep(3000);
      assertThat(
              ModelRepository.create(repo)
                  .publish("fashion", ROOT.resolve("models/fashion-mnist-int8.onnx")))
          .isEqualTo(2);
      long published = System.nanoTime();
      await(
          () -> results.values().stream().anyMatch(r -> Long.valueOf(2).equals(r.version())),
          Duration.ofSeconds(30),
          "version 2 answers");
      // each worker reads the repository every second: after three, both have switched
      Thread.sleep(3000);
      long switched = System.nanoTime();
      int answeredBefore = results.size();
      await(
          () -> results.size() >= answeredBefore + 100,
          Duration.ofSeconds(60),
          "answers after the switch");

      Path corrupt = Files.createDirectories(repo.resolve("fashion/3"));
      Files.write(corrupt.resolve("model.onnx"), new byte[] {0x08, 0x07, 0x12, 0x03, 'b', 'a'});
      Thread.sleep(3000);
      int answeredBeforeEnd = results.size();
      await(
          () -> results.size() >= answeredBeforeEnd + 50,
          Duration.ofSeconds(60),
          "answers after the corrupt version");
      loading.set(false);
      load.join();
      await(() -> results.size() >= sentAt.size(), Duration.ofSeconds(60), "every answer");
      reader.join(10_000);

      assertThat(results.keySet()).as("nothing lost").isEqualTo(sentAt.keySet());
      assertThat(results.values())
          .as("nothing failed, and every result names the model and its version")
          .allSatisfy(r -> assertThat(r.error()).isNull())
          .allSatisfy(r -> assertThat(r.model()).isEqualTo("fashion"))
          .allSatisfy(r -> assertThat(r.version()).isIn(1L, 2L))
          .anyMatch(r -> r.version() == 1L)
          .anyMatch(r -> r.version() == 2L);
      List<String> afterSwitch =
          sentAt.entrySet().stream()
              .filter(e -> e.getValue() > switched)
              .map(Map.Entry::getKey)
              .toList();
      assertThat(afterSwitch).hasSizeGreaterThan(100);
      assertThat(afterSwitch)
          .as("only version 2 once the switch is done, the corrupt version 3 changing nothing")
          .allSatisfy(id -> assertThat(results.get(id).version()).isEqualTo(2L));

      // the longest wait during the rollout, against the steady p99 before it (printed: a number
      // to watch, not a limit on a shared machine)
      List<Long> steady = new ArrayList<>();
      long longestDuringRollout = 0;
      for (Map.Entry<String, Long> e : sentAt.entrySet()) {
        long l = latencyNanos.get(e.getKey());
        if (e.getValue() >= steadyFrom && e.getValue() < published) {
          steady.add(l);
        } else if (e.getValue() >= published && e.getValue() < switched) {
          longestDuringRollout = Math.max(longestDuringRollout, l);
        }
      }
      steady.sort(null);
      System.out.printf(
          "rollout: %d requests, steady p99 %.1f ms, longest during the rollout %.1f ms%n",
          sentAt.size(),
          steady.get((int) (steady.size() * 0.99)) / 1e6,
          longestDuringRollout / 1e6);
    }
    String logs =
        Files.readString(dir.resolve("worker-0.err"))
            + Files.readString(dir.resolve("worker-1.err"));
    assertThat(logs).contains("model fashion version 3 cannot be served, version 2 still does");
  }
}
