package dev.conveyor.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Where the token comes from: the command line, a file, or the environment, in that order. */
class ServerSettingsTest {
  @TempDir Path dir;

  private static Settings settings(Map<String, String> given) {
    return Settings.read(given, "test", ServerSettings.SERVER_SETTINGS);
  }

  private static String token(Map<String, String> given, Map<String, String> environment) {
    return ServerSettings.config(settings(given), 1000, environment).token();
  }

  @Test
  void theTokenComesFromTheFlagTheFileOrTheEnvironment() throws Exception {
    Path file = Files.writeString(dir.resolve("token"), "  from-file-1234\nsecond line\n");
    Map<String, String> env = Map.of("CONVEYOR_TOKEN", "from-env-5678\n");
    assertThat(token(Map.of(), Map.of())).as("no token: an open server").isNull();
    assertThat(token(Map.of(), env)).isEqualTo("from-env-5678");
    assertThat(token(Map.of("token-file", file.toString()), env)).isEqualTo("from-file-1234");
    assertThat(token(Map.of("token", "from-flag"), env)).isEqualTo("from-flag");
    assertThat(token(Map.of(), Map.of("CONVEYOR_TOKEN", "  "))).isNull();
  }

  @Test
  void aTokenFileThatCannotServeIsAClearError() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    assertThatThrownBy(() -> token(Map.of("token-file", empty.toString()), Map.of()))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("is empty");
    Files.writeString(dir.resolve("secret-token"), "s3cr3t-value");
    assertThatThrownBy(
            () -> token(Map.of("token-file", dir.resolve("missing").toString()), Map.of()))
        .hasMessageContaining("cannot read the token file")
        .hasMessageContaining("missing");
    assertThatThrownBy(
            () ->
                token(
                    Map.of("token", "a", "token-file", dir.resolve("secret-token").toString()),
                    Map.of()))
        .hasMessageContaining("not both")
        .message()
        .doesNotContain("s3cr3t-value");
  }

  @Test
  void allowedHostsAndTheMinimumDataRateHaveSafeDefaults() {
    ServerConfig defaults = ServerSettings.config(settings(Map.of()), 1000, Map.of());
    assertThat(defaults.allowedHosts()).as("decided by --bind").isNull();
    assertThat(defaults.minDataRate()).isEqualTo(1024);
    ServerConfig given =
        ServerSettings.config(
            settings(Map.of("allowed-hosts", "conveyor.lan, localhost", "min-data-rate", "0")),
            1000,
            Map.of());
    assertThat(given.allowedHosts()).containsExactly("conveyor.lan", "localhost");
    assertThat(given.minDataRate()).isZero();
    assertThatThrownBy(() -> settings(Map.of("allowed-hosts", "conveyor.lan:8080")))
        .hasMessageContaining("allowed-hosts");
    assertThatThrownBy(() -> settings(Map.of("min-data-rate", "-1")))
        .hasMessageContaining("min-data-rate");
  }

  @Test
  void httpsNeedsBothACertificateAndAKeyThatCanBeRead() throws Exception {
    Path cert = Files.writeString(dir.resolve("cert.pem"), "-----BEGIN CERTIFICATE-----\n");
    Path key = Files.writeString(dir.resolve("key.pem"), "-----BEGIN PRIVATE KEY-----\n");
    assertThat(ServerSettings.tls(settings(Map.of()))).isNull();
    assertThat(
            ServerSettings.tls(
                settings(Map.of("tls-cert", cert.toString(), "tls-key", key.toString()))))
        .isEqualTo(new ServerConfig.Tls(cert, key));
    assertThatThrownBy(() -> ServerSettings.tls(settings(Map.of("tls-cert", cert.toString()))))
        .hasMessageContaining("both --tls-cert and --tls-key");
    assertThatThrownBy(
            () ->
                ServerSettings.tls(
                    settings(
                        Map.of(
                            "tls-cert", cert.toString(),
                            "tls-key", dir.resolve("nope.pem").toString()))))
        .hasMessageContaining("cannot read")
        .hasMessageContaining("nope.pem");
  }
}
