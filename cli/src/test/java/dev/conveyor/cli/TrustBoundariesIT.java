package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.Json;
import dev.conveyor.core.fetch.FetchAllow;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.redis.TestRedisClient;
import dev.conveyor.testing.RedisServer;
import dev.conveyor.testing.TestProcesses;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a producer on a broker and a caller of {@code serve} send, as an attacker sends it, to real
 * processes on a small heap: references to the worker's own files and devices, reply addresses that
 * name the queue itself and other applications' keys, and KServe shapes whose products overflow.
 * Each gets a coded error that reveals nothing, no innocent request beside it is lost or answered
 * twice, no key outside the reply namespace is touched, and the process stays healthy within a
 * stated resident memory.
 */
@Timeout(240)
class TrustBoundariesIT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();

  /** The heap the processes run on, and the resident memory they must stay under. */
  private static final String SMALL_HEAP = "-Xmx256m";

  private static final long MAX_RSS_BYTES = 700L << 20;

  @TempDir Path dir;
  private Process worker;

  @AfterEach
  void stop() throws Exception {
    if (worker != null) {
      TestProcesses.kill(worker);
    }
  }

  @Test
  void aWorkerFetchesNothingItWasNotGivenAndTouchesNoKeyOutsideItsReplyNamespace()
      throws Exception {
    // an allowed folder, so that what is under it reaches the confinement and the size limit
    Path images = Files.createDirectories(dir.resolve("images"));
    Path big = Files.write(images.resolve("big.png"), new byte[21_000_000]);
    Files.createSymbolicLink(images.resolve("out.png"), Path.of("/etc/passwd"));
    Files.createDirectories(images.resolve("folder"));
    Path fifo = images.resolve("fifo");
    try (RedisServer redis =
            RedisServer.start(
                Files.createDirectories(dir.resolve("redis")), RedisServer.Options.plain());
        TestRedisClient r = new TestRedisClient(redis.uri(""))) {
      ProcessBuilder b =
          new ProcessBuilder(
                  ROOT.resolve("conveyor").toString(),
                  "worker",
                  "--from",
                  redis.uri("mode=stream"),
                  "--batch",
                  "8",
                  "--fetch-allow",
                  "s3://,file:" + images)
              .redirectOutput(dir.resolve("worker.out").toFile())
              .redirectError(dir.resolve("worker.err").toFile());
      b.environment().put("CONVEYOR_JAVA_OPTS", SMALL_HEAP);
      worker = b.start();
      assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
      byte[] image = TestImages.bytes("tiny-gray.png");
      add(r, Map.of("id", "warm", "image", image));
      assertThat(result(r, "warm", worker).path("status").asText()).isEqualTo("ok");
      long rssBefore = rss(worker);

      // 1. references to the worker's own files, devices and FIFOs
      List<String> refs =
          List.of(
              "/etc/shadow",
              "/etc/passwd",
              "/proc/self/environ",
              "file:///etc/passwd",
              "../../../../../../etc/passwd",
              "/dev/zero",
              "/dev/urandom",
              fifo.toString(),
              images.resolve("out.png").toString(),
              images + "/../../../../etc/passwd",
              images.resolve("folder").toString(),
              dir.toString(),
              "/no/such/file.png",
              "http://127.0.0.1:1/x.png",
              "jar:file:/x.jar!/y.png");
      for (int i = 0; i < refs.size(); i++) {
        add(r, Map.of("id", "r" + i, "ref", refs.get(i)));
      }
      String passwd = Files.readString(Path.of("/etc/passwd"));
      String passwdHex =
          HexFormat.of().formatHex(passwd.substring(0, 8).getBytes(StandardCharsets.UTF_8));
      add(r, Map.of("id", "big", "ref", big.toString()));
      JsonNode tooLarge = result(r, "big", worker);
      assertThat(tooLarge.at("/error/code").asText()).isEqualTo("TOO_LARGE");
      assertThat(withoutTiming(tooLarge)).doesNotContain("21000000");
      for (int i = 0; i < refs.size(); i++) {
        JsonNode answer = result(r, "r" + i, worker);
        assertThat(answer.at("/error/code").asText()).as(refs.get(i)).isEqualTo("NOT_FOUND");
        assertThat(answer.at("/error/message").asText())
            .as(refs.get(i))
            .isEqualTo(FetchAllow.DENIED_MESSAGE);
        String text = withoutTiming(answer);
        assertThat(text)
            .as("nothing of the file: %s", refs.get(i))
            .doesNotContain("root:")
            .doesNotContain(passwdHex)
            .doesNotContain("SHELL")
            .doesNotContain(Long.toString(Files.size(Path.of("/etc/passwd"))))
            .doesNotContainIgnoringCase("directory")
            .doesNotContainIgnoringCase("no such");
      }

      // 2. reply addresses: the queue itself, another application's hash, a hash in the namespace
      r.hset("app:settings", "colour", "blue");
      r.hset("conveyor:reply:taken", "f", "v");
      r.xaddAll(
          "conveyor:images",
          List.of(
              fields(Map.of("id", "i1", "image", image, "reply_to", "conveyor:reply:mine")),
              fields(Map.of("id", "e", "image", image, "reply_to", "conveyor:images")),
              fields(Map.of("id", "i2", "image", image, "reply_to", "conveyor:reply:mine")),
              fields(Map.of("id", "h", "image", image, "reply_to", "app:settings")),
              fields(Map.of("id", "i3", "image", image, "reply_to", "conveyor:reply:mine")),
              fields(Map.of("id", "t", "image", image, "reply_to", "conveyor:reply:taken")),
              fields(Map.of("id", "i4", "image", image, "reply_to", "conveyor:reply:mine"))));
      for (String refused : List.of("e", "h", "t")) {
        JsonNode answer = result(r, refused, worker);
        assertThat(answer.at("/error/code").asText()).as(refused).isEqualTo("BAD_REQUEST");
        assertThat(answer.at("/error/message").asText()).as(refused).contains("reply_to");
      }
      for (String innocent : List.of("i1", "i2", "i3", "i4")) {
        assertThat(result(r, innocent, worker).path("status").asText())
            .as(innocent)
            .isEqualTo("ok");
      }
      assertThat(r.ttl("conveyor:images")).as("the queue keeps no expiry").isEqualTo(-1);
      assertThat(r.type("conveyor:images")).isEqualTo("stream");
      assertThat(r.groups("conveyor:images")).as("its group is there").hasSize(1);
      assertThat(r.ttl("app:settings")).isEqualTo(-1);
      assertThat(r.hgetall("app:settings")).hasSize(1);
      assertThat(r.ttl("conveyor:reply:taken")).isEqualTo(-1);
      assertThat(r.type("conveyor:reply:taken")).isEqualTo("hash");
      assertThat(r.llen("conveyor:reply:mine"))
          .as("each innocent request answered once on its reply list")
          .isEqualTo(4);
      assertThat(r.exists("conveyor:dead")).as("nothing dead-lettered").isFalse();
      Map<String, Integer> stored = new LinkedHashMap<>();
      for (TestRedisClient.Entry entry : r.xrange("conveyor:results")) {
        if (entry.fields().containsKey("id")) {
          stored.merge(entry.fields().get("id"), 1, Integer::sum);
        }
      }
      for (String id : List.of("i1", "i2", "i3", "i4", "e", "h", "t")) {
        assertThat(stored.get(id)).as("results of %s", id).isEqualTo(1);
      }

      assertThat(worker.isAlive()).isTrue();
      add(r, Map.of("id", "after", "image", image));
      assertThat(result(r, "after", worker).path("status").asText()).isEqualTo("ok");
      long rssAfter = rss(worker);
      System.out.printf(
          "worker RSS on %s: %d MB before the probes, %d MB after%n",
          SMALL_HEAP, rssBefore >> 20, rssAfter >> 20);
      assertThat(rssAfter).isLessThan(MAX_RSS_BYTES);
    }
  }

  @Test
  void serveAnswersHostileKServeShapesWithErrorsAndStaysLive() throws Exception {
    try (ServeProcess serve =
        ServeProcess.start(ROOT, dir, Map.of("CONVEYOR_JAVA_OPTS", SMALL_HEAP))) {
      String infer = "/v2/models/fashion-mnist/infer";
      assertThat(serve.get("/v2/health/live").statusCode()).isEqualTo(200);
      long rssBefore = rss(serve.process);

      // the 115 bytes whose per-image size overflowed to 0
      String overflow =
          "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"FP32\","
              + "\"shape\":[2147483647,65536,65536,65536,65536],\"data\":[]}]}";
      assertRefused(serve, infer, "application/json", overflow.getBytes(), null);
      // a product that turns negative in 32 bits
      String negative =
          "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"FP32\","
              + "\"shape\":[1,65536,65536,65536],\"data\":[0]}]}";
      assertRefused(serve, infer, "application/json", negative.getBytes(), null);
      // negative and zero sizes
      assertRefused(
          serve,
          infer,
          "application/json",
          negative.replace("[1,65536,65536,65536]", "[-1,1,28,28]").getBytes(),
          null);
      // 4 MB of UINT8 as four million one-byte items
      String header =
          "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"UINT8\",\"shape\":[4000000,1],"
              + "\"parameters\":{\"binary_data_size\":4000000}}]}";
      ByteArrayOutputStream body = new ByteArrayOutputStream();
      body.writeBytes(header.getBytes(StandardCharsets.UTF_8));
      body.writeBytes(new byte[4_000_000]);
      assertRefused(
          serve,
          infer,
          "application/octet-stream",
          body.toByteArray(),
          Integer.toString(header.length()));
      // a million images declared, two sent
      String images =
          "{\"inputs\":[{\"name\":\"image\",\"datatype\":\"BYTES\",\"shape\":[1000000],"
              + "\"data\":[\"AA==\",\"AA==\"]}]}";
      assertRefused(serve, infer, "application/json", images.getBytes(), null);
      // twelve megabytes of JSON numbers, as one tensor of the model's input per item
      assertRefused(serve, infer, "application/json", manyNumbers(), null);

      assertThat(serve.process.isAlive()).isTrue();
      assertThat(serve.get("/v2/health/live").statusCode()).isEqualTo(200);
      // and a request that fits is still answered
      String good =
          "{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"UINT8\",\"shape\":[1,28,28,1],"
              + "\"data\":"
              + zeros(28 * 28)
              + "}]}";
      HttpResponse<String> ok =
          serve.http.send(
              serve.post(infer, "application/json", good.getBytes()),
              HttpResponse.BodyHandlers.ofString());
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
      long rssAfter = rss(serve.process);
      System.out.printf(
          "serve RSS on %s: %d MB before the probes, %d MB after%n",
          SMALL_HEAP, rssBefore >> 20, rssAfter >> 20);
      assertThat(rssAfter).isLessThan(MAX_RSS_BYTES);
    }
  }

  private static void assertRefused(
      ServeProcess serve, String path, String type, byte[] body, String headerLength)
      throws Exception {
    var request =
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(serve.base + path))
            .header("Content-Type", type)
            .timeout(java.time.Duration.ofSeconds(60))
            .POST(java.net.http.HttpRequest.BodyPublishers.ofByteArray(body));
    if (headerLength != null) {
      request.header("Inference-Header-Content-Length", headerLength);
    }
    HttpResponse<String> r = serve.http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("error");
  }

  /** About 12 MB of JSON: 2,000 items of the model's 784 numbers, past the request's --queue. */
  private static byte[] manyNumbers() {
    StringBuilder b = new StringBuilder(13_000_000);
    b.append("{\"inputs\":[{\"name\":\"tensor\",\"datatype\":\"FP32\",\"shape\":[2000,1,28,28],");
    b.append("\"data\":[");
    for (int i = 0; i < 2000 * 784; i++) {
      b.append(i == 0 ? "" : ",").append("0.25");
    }
    b.append("]}]}");
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static String zeros(int n) {
    List<String> z = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      z.add("0");
    }
    return "[" + String.join(",", z) + "]";
  }

  private static void add(TestRedisClient r, Map<String, Object> fields) {
    r.xadd("conveyor:images", fields(fields));
  }

  /** An entry's fields: bytes as they are, anything else as its text. */
  private static Map<String, byte[]> fields(Map<String, Object> fields) {
    Map<String, byte[]> body = new LinkedHashMap<>();
    fields.forEach((k, v) -> body.put(k, v instanceof byte[] b ? b : bytes(v.toString())));
    return body;
  }

  /** The result stored at {@code conveyor:result:ID}, waited for while the worker lives. */
  private static JsonNode result(TestRedisClient r, String id, Process worker) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    while (true) {
      String json = r.get("conveyor:result:" + id);
      if (json != null) {
        return Json.mapper().readTree(json);
      }
      assertThat(worker.isAlive()).as("the worker is alive").isTrue();
      assertThat(System.nanoTime()).as("a result for " + id).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  /**
   * A result's text without its measured latency, whose digits are the worker's timing, not bytes
   * of anything it read, and could match a file's size by chance.
   */
  private static String withoutTiming(JsonNode result) {
    ObjectNode copy = result.deepCopy();
    copy.remove("latency_ms");
    return copy.toString();
  }

  /** A process's resident memory, from {@code /proc}. */
  private static long rss(Process p) throws Exception {
    for (String line : Files.readAllLines(Path.of("/proc/" + p.pid() + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IllegalStateException("no VmRSS for " + p.pid());
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
