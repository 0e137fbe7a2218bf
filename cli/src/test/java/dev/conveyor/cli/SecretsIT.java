package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.testing.TestImages;
import dev.conveyor.testing.RedisServer;
import dev.conveyor.testing.TestProcesses;
import dev.conveyor.testing.TestTls;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code serve} with a token from a file and a worker, both over {@code rediss://} as a password
 * user, the worker's password from its URI's {@code password-file} and serve's from {@code
 * CONVEYOR_REDIS_PASSWORD}: the password and the token appear in nothing they print or answer, and
 * neither is warned about a secret on its command line.
 */
@Timeout(180)
class SecretsIT {
  private static final Path ROOT = Path.of(System.getProperty("conveyor.home"));
  private static final String PASSWORD = "redis-pass-8";
  private static final String TOKEN = "token-secret-5";

  @TempDir Path dir;

  @Test
  void passwordsAndTokensStayOutOfWhatServeAndWorkersPrintAndAnswer() throws Exception {
    TestTls tls = TestTls.write(dir.resolve("tls"));
    Path redisDir = Files.createDirectories(dir.resolve("redis"));
    try (RedisServer redis =
        RedisServer.start(
            redisDir,
            RedisServer.Options.plain()
                .withTls(tls)
                .withUser(RedisServer.conveyorUser(PASSWORD)))) {
      String uri =
          "rediss://conveyor@127.0.0.1:%d?mode=stream&ca=%s"
              .formatted(redis.tlsPort(), tls.certificate());
      Path token = dir.resolve("token");
      Files.writeString(token, TOKEN + "\n");
      Path password = Files.writeString(dir.resolve("redis-password"), PASSWORD + "\n");
      Process worker =
          new ProcessBuilder(
                  ROOT.resolve("conveyor").toString(),
                  "worker",
                  "--from",
                  uri + "&password-file=" + password)
              .redirectOutput(dir.resolve("worker.out").toFile())
              .redirectError(dir.resolve("worker.err").toFile())
              .start();
      try (ServeProcess serve =
          ServeProcess.start(
              ROOT,
              dir,
              Map.of("CONVEYOR_REDIS_PASSWORD", PASSWORD),
              "--transport",
              uri,
              "--token-file",
              token.toString())) {
        HttpResponse<String> classified =
            serve.http.send(
                HttpRequest.newBuilder(URI.create(serve.base + "/v1/classify"))
                    .header("Authorization", "Bearer " + TOKEN)
                    .header("Content-Type", "image/png")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(TestImages.bytes("tiny-gray.png")))
                    .timeout(java.time.Duration.ofSeconds(60))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(classified.statusCode()).as(classified.body()).isEqualTo(200);
        for (String path : List.of("/v1/info", "/v1/stats", "/metrics", "/v2", "/v1/recent")) {
          HttpResponse<String> r =
              serve.http.send(
                  HttpRequest.newBuilder(URI.create(serve.base + path))
                      .header("Authorization", "Bearer " + TOKEN)
                      .build(),
                  HttpResponse.BodyHandlers.ofString());
          assertThat(r.body()).as(path).doesNotContain(PASSWORD).doesNotContain(TOKEN);
        }
        // a wrong token is refused without being repeated
        HttpResponse<String> refused =
            serve.http.send(
                HttpRequest.newBuilder(URI.create(serve.base + "/v1/stats"))
                    .header("Authorization", "Bearer not-" + TOKEN)
                    .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.body()).doesNotContain(TOKEN);
      } finally {
        TestProcesses.stop(worker, Duration.ofSeconds(30));
      }
      for (String log : List.of("worker.out", "worker.err", "serve.out", "serve.err")) {
        String text = Files.readString(dir.resolve(log));
        assertThat(text)
            .as(log)
            .doesNotContain(PASSWORD)
            .doesNotContain(TOKEN)
            .doesNotContain("can be read by every local user");
      }
      assertThat(Files.readString(dir.resolve("serve.err")))
          .as("serve said where it runs")
          .contains("rediss://");
    }
  }
}
