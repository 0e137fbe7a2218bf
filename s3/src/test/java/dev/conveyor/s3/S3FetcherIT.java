package dev.conveyor.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fetch.FetchAllow;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.fetch.Fetchers;
import dev.conveyor.core.fetch.ObjectStore;
import dev.conveyor.core.fetch.ObjectStores;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.testing.S3Server;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Fetching s3:// references from a real S3-compatible server (s3proxy), and from a failing one. */
@Timeout(120)
class S3FetcherIT {
  @TempDir static Path dir;
  private static S3Server server;

  @BeforeAll
  static void start() throws Exception {
    server = S3Server.start(dir);
    Settings settings = Settings.read(server.settings(), "test", FetchSettings.SETTINGS);
    try (ObjectStore store = ObjectStores.open("s3://images", settings)) {
      store.checkBucket(true);
      assertThat(store.bucket()).isEqualTo("s3://images/");
      assertThat(store.key("cats/palette-blue.png")).isEqualTo("cats/palette-blue.png");
      assertThat(
              store.put("cats/palette-blue.png", TestImages.bytes("palette-blue.png"), "image/png"))
          .isEqualTo("s3://images/cats/palette-blue.png");
      store.put("big.jpg", new byte[300_000], "image/jpeg");
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (server != null) {
      server.close();
    }
  }

  private static Fetchers fetchers(Map<String, String> settings) {
    return new Fetchers(Settings.read(settings, "test", FetchSettings.SETTINGS));
  }

  @Test
  void anObjectIsFetchedByItsReferenceAndAMissingOneIsNotFound() {
    try (Fetchers f = fetchers(server.settings())) {
      assertThat(f.fetch("s3://images/cats/palette-blue.png", 1_000_000))
          .isEqualTo(TestImages.bytes("palette-blue.png"));
      assertThatThrownBy(() -> f.fetch("s3://images/cats/none.png", 1_000_000))
          .isInstanceOfSatisfying(
              ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND))
          .hasMessage(FetchAllow.DENIED_MESSAGE);
      assertThatThrownBy(() -> f.fetch("s3://no-such-bucket/x.png", 1_000_000))
          .isInstanceOfSatisfying(
              ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
      // a reference outside --fetch-allow gets the same answer as a missing object
      assertThatThrownBy(() -> f.fetch("s3://images/../other/x.png", 1_000_000))
          .hasMessage(FetchAllow.DENIED_MESSAGE);
      assertThatThrownBy(() -> f.fetch("s3://Not_A_Bucket/x.png", 1_000_000))
          .hasMessage(FetchAllow.DENIED_MESSAGE);
      // local paths are not fetched unless a folder is allowed
      String local = TestImages.folder().resolve("yellow.bmp").toString();
      assertThatThrownBy(() -> f.fetch(local, 1_000_000)).hasMessage(FetchAllow.DENIED_MESSAGE);
    }
    Map<String, String> withFolder = new java.util.HashMap<>(server.settings());
    withFolder.put("fetch-allow", "s3://images/cats/,file:" + TestImages.folder());
    try (Fetchers f = fetchers(withFolder)) {
      assertThat(f.fetch(TestImages.folder().resolve("yellow.bmp").toString(), 1_000_000))
          .isEqualTo(TestImages.bytes("yellow.bmp"));
      assertThat(f.fetch("S3://images/cats/palette-blue.png", 1_000_000))
          .isEqualTo(TestImages.bytes("palette-blue.png"));
      assertThatThrownBy(() -> f.fetch("s3://images/big.jpg", 1_000_000))
          .as("outside the allowed prefix")
          .hasMessage(FetchAllow.DENIED_MESSAGE);
    }
  }

  @Test
  void aMissingBucketIsMadeOnlyWhenAsked() {
    Settings settings = Settings.read(server.settings(), "test", FetchSettings.SETTINGS);
    try (ObjectStore store = ObjectStores.open("s3://made-later/pre", settings)) {
      assertThatThrownBy(() -> store.checkBucket(false))
          .isInstanceOfSatisfying(
              ConveyorException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
          .hasMessageContaining("no bucket made-later");
      store.checkBucket(true);
      assertThat(store.key("a.png")).isEqualTo("pre/a.png");
      String ref = store.put("a.png", TestImages.bytes("palette-blue.png"), "image/png");
      assertThat(ref).isEqualTo("s3://made-later/pre/a.png");
      try (Fetchers f = fetchers(server.settings())) {
        assertThat(f.fetch(ref, 1_000_000)).isEqualTo(TestImages.bytes("palette-blue.png"));
      }
    }
  }

  @Test
  void anObjectOverTheByteLimitIsRefusedFromItsLength() {
    try (Fetchers f = fetchers(server.settings())) {
      assertThatThrownBy(() -> f.fetch("s3://images/big.jpg", 100_000))
          .isInstanceOfSatisfying(
              ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.TOO_LARGE))
          .hasMessageContaining("over the limit of 100000 bytes")
          .hasMessageNotContaining("300000");
    }
  }

  @Test
  void wrongCredentialsAreAFetchFailureThatDoesNotShowTheSecret() {
    String before = System.getProperty("aws.secretAccessKey");
    System.setProperty("aws.secretAccessKey", "not-the-secret-at-all");
    try (Fetchers f = fetchers(server.settings())) {
      assertThatThrownBy(() -> f.fetch("s3://images/cats/palette-blue.png", 1_000_000))
          .isInstanceOfSatisfying(
              ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.FETCH_FAILED))
          .hasMessageContaining("HTTP 403")
          .hasMessageNotContaining("not-the-secret-at-all");
    } finally {
      System.setProperty("aws.secretAccessKey", before);
    }
  }

  @Test
  void throttlingAndServerErrorsAreRetriedThenGiveUpAsFetchFailed() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    byte[] image = TestImages.bytes("yellow.bmp");
    HttpServer flaky = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    flaky.createContext(
        "/",
        exchange -> {
          int n = calls.incrementAndGet();
          exchange.getRequestBody().readAllBytes();
          if (exchange.getRequestURI().getPath().endsWith("/always-down.bmp") || n <= 2) {
            byte[] body =
                (n % 2 == 1
                        ? "<Error><Code>SlowDown</Code><Message>slow down</Message></Error>"
                        : "<Error><Code>InternalError</Code><Message>oops</Message></Error>")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/xml");
            exchange.sendResponseHeaders(n % 2 == 1 ? 503 : 500, body.length);
            exchange.getResponseBody().write(body);
          } else {
            exchange.getResponseHeaders().add("Content-Type", "image/bmp");
            exchange.sendResponseHeaders(200, image.length);
            exchange.getResponseBody().write(image);
          }
          exchange.close();
        });
    flaky.start();
    try {
      Map<String, String> settings = new HashMap<>(server.settings());
      settings.put("s3-endpoint", "http://127.0.0.1:" + flaky.getAddress().getPort());
      settings.put("fetch-attempts", "4");
      try (Fetchers f = fetchers(settings)) {
        assertThat(f.fetch("s3://images/yellow.bmp", 1_000_000)).isEqualTo(image);
        assertThat(calls.get()).as("two failures, then the object").isEqualTo(3);
        calls.set(0);
        assertThatThrownBy(() -> f.fetch("s3://images/always-down.bmp", 1_000_000))
            .isInstanceOfSatisfying(
                ConveyorException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.FETCH_FAILED));
        assertThat(calls.get()).as("fetch-attempts tries").isEqualTo(4);
      }
    } finally {
      flaky.stop(0);
    }
  }
}
