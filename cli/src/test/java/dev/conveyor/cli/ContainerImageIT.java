package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Requests;
import dev.conveyor.testing.Await;
import dev.conveyor.testing.Hosts;
import dev.conveyor.testing.RedisServer;
import dev.conveyor.testing.Requirements;
import dev.conveyor.train.FashionMnist;
import dev.conveyor.train.PngExport;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Conveyor's container image, built as a user builds it ({@code scripts/build-image.sh}: no Docker
 * daemon, a base made from Debian's packages), unpacked with {@code umoci} as a container runtime
 * unpacks it, and run on a host of its own ({@link Hosts}): its root filesystem entered with {@code
 * chroot}, as the user and with the command and environment the image's configuration names, and
 * {@code worker} added to the command. It must classify real requests from a Redis stream.
 */
@Timeout(900)
class ContainerImageIT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();

  @TempDir Path dir;
  private Hosts hosts;
  private RedisServer redis;

  @AfterEach
  void stop() throws Exception {
    if (hosts != null) {
      hosts.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  @Test
  void aWorkerRunFromTheImageClassifiesRequestsFromAnotherHost() throws Exception {
    for (String tool : List.of("mmdebstrap", "umoci", "skopeo")) {
      Requirements.executable(Path.of("/usr/bin", tool), "apt-get install " + tool);
    }
    Path image = dir.resolve("image");
    run(
        List.of(ROOT.resolve("scripts/build-image.sh").toString(), "--output", image.toString()),
        dir.resolve("build.log"),
        600);
    String built = Files.readString(dir.resolve("build.log"));
    Path bundle = dir.resolve("bundle");
    run(
        List.of("umoci", "unpack", "--image", image.resolve("oci") + ":0.1.0", bundle.toString()),
        dir.resolve("unpack.log"),
        300);
    JsonNode process =
        Json.mapper().readTree(bundle.resolve("config.json").toFile()).get("process");
    List<String> command = new ArrayList<>();
    process.get("args").forEach(a -> command.add(a.asText()));
    assertThat(command)
        .as("the image's entrypoint and command")
        .startsWith("/opt/conveyor/bin/conveyor");
    assertThat(process.at("/user/uid").asInt()).as("the image's user").isEqualTo(10001);

    hosts = Hosts.create(1);
    redis =
        RedisServer.start(
            Files.createDirectories(dir.resolve("redis")),
            RedisServer.Options.plain().alsoOn(hosts.gateway()));
    // the image's command without its default arguments, then the worker's
    List<String> worker = new ArrayList<>(List.of(command.get(0)));
    worker.addAll(
        List.of(
            "worker", "--transport", redis.uriAt(hosts.gateway(), "mode=stream"), "--batch", "16"));
    hosts
        .host(1)
        .start(inContainer(bundle.resolve("rootfs"), process, worker), dir.resolve("worker.log"));

    FashionMnist test =
        FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(64);
    Map<String, Integer> truth = new HashMap<>();
    try (Requests producer = Brokers.open(redis.uri("mode=stream")).producer()) {
      for (int i = 0; i < test.count(); i++) {
        ImageRequest r = ImageRequest.ofBytes("test-" + i, PngExport.png(test, i), null);
        truth.put(r.id(), test.label(i));
        producer.send(r, Duration.ofSeconds(10));
      }
      assertThat(producer.flush(Duration.ofSeconds(10))).isEmpty();
    }
    Await.until(
        () -> redis.length("conveyor:results") >= test.count(),
        Duration.ofSeconds(120),
        "the worker in the image answering: " + Files.readString(dir.resolve("worker.log")));
    List<String> lines = redis.cli("XRANGE", "conveyor:results", "-", "+");
    int right = 0;
    int answered = 0;
    for (int i = 0; i + 1 < lines.size(); i++) {
      if (lines.get(i).equals("result")) {
        JsonNode r = Json.mapper().readTree(lines.get(i + 1));
        assertThat(r.path("status").asText()).as(r.toString()).isEqualTo("ok");
        assertThat(r.path("host").asText()).isEqualTo("host1");
        assertThat(r.path("model").asText()).isEqualTo("fashion-mnist");
        answered++;
        if (r.at("/predictions/0/index").asInt() == truth.get(r.path("id").asText())) {
          right++;
        }
      }
    }
    long rootfs = megabytes(bundle.resolve("rootfs"));
    System.out.printf(
        "container image: %s; unpacked %d MB; a worker run from it on host1 classified %d of %d"
            + " Fashion-MNIST test images, %d right%n",
        built.lines().filter(l -> l.startsWith("build-image: ")).toList(),
        rootfs,
        answered,
        test.count(),
        right);
    assertThat(answered).isEqualTo(test.count());
    assertThat(right).as("right answers of the bundled model").isGreaterThan(test.count() * 3 / 4);
  }

  /**
   * The command that runs {@code args} in the unpacked image at {@code rootfs}: a mount namespace
   * of its own with {@code /proc}, {@code /dev} and a fresh {@code /tmp}, then {@code chroot} as
   * the image's user, with the image's environment and working folder.
   */
  private static List<String> inContainer(Path rootfs, JsonNode process, List<String> args) {
    StringBuilder env = new StringBuilder("HOSTNAME=host1");
    process.get("env").forEach(e -> env.append(' ').append(quote(e.asText())));
    String r = quote(rootfs.toString());
    String script =
        "mount -t proc proc "
            + r
            + "/proc && mount --rbind /dev "
            + r
            + "/dev && mount -t tmpfs tmpfs "
            + r
            + "/tmp && exec chroot --userspec="
            + process.at("/user/uid").asInt()
            + ":"
            + process.at("/user/gid").asInt()
            + " "
            + r
            + " /usr/bin/env -i "
            + env
            + " /bin/sh -c 'cd "
            + process.path("cwd").asText("/")
            + " && exec \"$@\"' conveyor "
            + String.join(" ", args.stream().map(ContainerImageIT::quote).toList());
    return List.of(
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "--fork",
        "--kill-child",
        "/bin/sh",
        "-c",
        script);
  }

  private static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static void run(List<String> command, Path log, int seconds) throws Exception {
    Process p =
        new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    assertThat(p.exitValue())
        .as("%s: %s", command, Files.readString(log, StandardCharsets.UTF_8))
        .isZero();
  }

  /** The megabytes of files under {@code folder}, as {@code du} counts them. */
  private static long megabytes(Path folder) throws Exception {
    Process du =
        new ProcessBuilder("du", "-s", "--apparent-size", "-BM", folder.toString()).start();
    String out = new String(du.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(du.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return Long.parseLong(out.split("M")[0].strip());
  }
}
