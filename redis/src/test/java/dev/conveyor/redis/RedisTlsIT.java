package dev.conveyor.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.testing.RedisServer;
import dev.conveyor.testing.TestTls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Conveyor over {@code rediss://}: a redis-server with a TLS port and an ACL user allowed only the
 * commands and keys docs/brokers.md lists, and every mode working through them with no command
 * refused.
 */
@Timeout(120)
class RedisTlsIT {
  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private <T extends AutoCloseable> T keep(T c) {
    open.add(c);
    return c;
  }

  private RedisServer server() throws Exception {
    TestTls tls = TestTls.write(dir.resolve("tls"));
    return keep(
        RedisServer.start(
            dir,
            RedisServer.Options.plain()
                .withTls(tls)
                .withUser(RedisServer.conveyorUser("tls-pass-7"))));
  }

  private String uri(RedisServer server, String password, String query) {
    return "rediss://conveyor:%s@127.0.0.1:%d?%s".formatted(password, server.tlsPort(), query);
  }

  @ParameterizedTest(name = "{0} mode")
  // exactly once too: its script acknowledges keys the user is allowed, and passes no other
  @ValueSource(
      strings = {
        "list",
        "stream",
        "pubsub",
        "list&delivery=exactly-once",
        "stream&delivery=exactly-once"
      })
  void everyModeWorksOverTlsAsAUserWithOnlyConveyorsCommands(String mode) throws Exception {
    RedisServer server = server();
    Path ca = dir.resolve("tls/cert.pem");
    RedisConfig address =
        RedisConfig.parse(uri(server, "tls-pass-7", "mode=" + mode + "&ca=" + ca));
    assertThat(address.describe()).startsWith("rediss://").doesNotContain("tls-pass-7");
    MeanColourClassifier model = new MeanColourClassifier(32, 32);
    keep(
        TestWorkers.colour(
            keep(new RedisBroker(address).transport(8)),
            keep(new RedisBroker(address).sink()),
            model,
            4));
    if (mode.equals("pubsub")) {
      awaitSubscriber(server);
    }
    try (var client = new RedisBroker(address).client()) {
      String[] files = {"cmyk-red.jpg", "rgb16-green.png", "palette-blue.png"};
      String[] expected = {"red", "green", "blue"};
      java.util.Map<String, String> wanted = new java.util.HashMap<>();
      for (int i = 0; i < files.length; i++) {
        ImageRequest r = ImageRequest.ofBytes(files[i], TestImages.bytes(files[i]), null);
        wanted.put(r.id(), expected[i]);
        client.send(r, Duration.ofSeconds(30));
      }
      java.util.Map<String, ClassifyResult> got = new java.util.concurrent.ConcurrentHashMap<>();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (got.size() < wanted.size()) {
        assertThat(System.nanoTime()).as("results over TLS").isLessThan(deadline);
        client.poll(r -> got.put(r.id(), r));
      }
      got.forEach(
          (id, r) -> {
            assertThat(r.isOk()).as(r.toString()).isTrue();
            assertThat(r.top().label()).isEqualTo(wanted.get(id));
          });
    }
    assertThat(server.cli("ACL", "LOG").stream().filter(l -> !l.isBlank()))
        .as("commands the ACL refused")
        .isEmpty();
    assertThat(server.cli("ACL", "GETUSER", "conveyor"))
        .anySatisfy(line -> assertThat(line).startsWith("-@all +"));
  }

  private static void awaitSubscriber(RedisServer server) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!server.cli("PUBSUB", "NUMSUB", "conveyor:images").contains("1")) {
      assertThat(System.nanoTime()).as("a worker subscribed").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void aServerNotTrustedOrAWrongPasswordIsRefused() throws Exception {
    RedisServer server = server();
    Path ca = dir.resolve("tls/cert.pem");
    RedisConfig untrusted = RedisConfig.parse(uri(server, "tls-pass-7", "mode=stream"));
    assertThatThrownBy(() -> new RedisBroker(untrusted).producer().close())
        .hasStackTraceContaining("PKIX");
    RedisConfig wrong = RedisConfig.parse(uri(server, "nope", "mode=stream&ca=" + ca));
    assertThatThrownBy(() -> new RedisBroker(wrong).producer().close())
        .satisfies(e -> assertThat(e.toString()).doesNotContain("nope@"))
        .hasStackTraceContaining("WRONGPASS");
    // the user may not run what Conveyor does not need
    RedisConfig ok = RedisConfig.parse(uri(server, "tls-pass-7", "mode=stream&ca=" + ca));
    try (RedisConnections c = new RedisConnections(ok)) {
      assertThatThrownBy(() -> c.sync().flushall()).hasMessageContaining("NOPERM");
      assertThatThrownBy(() -> c.sync().get(RequestCodec.bytes("other:key")))
          .hasMessageContaining("NOPERM");
    }
  }

  @Test
  void theUsersPasswordFromAFileOrTheEnvironmentLogsItIn() throws Exception {
    RedisServer server = server();
    Path ca = dir.resolve("tls/cert.pem");
    String uri = "rediss://conveyor@127.0.0.1:%d?mode=stream&ca=%s".formatted(server.tlsPort(), ca);
    Path file = Files.writeString(dir.resolve("redis-password"), "tls-pass-7\n");
    RedisConfig fromFile = RedisConfig.parse(uri + "&password-file=" + file);
    RedisConfig fromEnvironment =
        RedisConfig.parse(uri, Map.of(), Map.of(RedisPassword.VARIABLE, "tls-pass-7"));
    for (RedisConfig a : List.of(fromFile, fromEnvironment)) {
      try (RedisConnections c = new RedisConnections(a)) {
        assertThat(c.sync().ping()).isEqualTo("PONG");
      }
    }
    Path wrong = Files.writeString(dir.resolve("wrong-password"), "nope-7\n");
    RedisConfig refused = RedisConfig.parse(uri + "&password-file=" + wrong);
    assertThatThrownBy(() -> new RedisBroker(refused).producer().close())
        .satisfies(e -> assertThat(e.toString()).doesNotContain("nope-7"))
        .hasStackTraceContaining("WRONGPASS");
  }
}
