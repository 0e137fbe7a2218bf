package dev.conveyor.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Where a PostgreSQL password comes from: the URI, a file, PGPASSWORD, or the driver's pgpass. */
@Timeout(30)
class PostgresConfigTest {
  private static final String DB = "postgresql://alice@db:5432/jobs";

  @TempDir Path dir;

  @Test
  void thePasswordFilesFirstLineIsThePasswordAndWinsOverTheEnvironment() throws Exception {
    Path f = Files.writeString(dir.resolve("pg-password"), "file-pass-1\nignored\n");
    PostgresConfig a =
        PostgresConfig.parse(
            DB + "?password-file=" + f, Map.of(), Map.of("PGPASSWORD", "env-pass-1"));
    assertThat(a.user()).isEqualTo("alice");
    assertThat(a.password()).isEqualTo("file-pass-1");
    assertThat(a.describe()).doesNotContain("file-pass-1");
    assertThat(a.toString()).doesNotContain("file-pass-1");
  }

  @Test
  void withoutAFileTheUrisPasswordThenPgpasswordThenNoneForTheDriversPgpass() {
    Map<String, String> env = Map.of("PGPASSWORD", "env-pass-2", "PGUSER", "bob");
    assertThat(PostgresConfig.parse(DB, Map.of(), env).password()).isEqualTo("env-pass-2");
    PostgresConfig fromEnv = PostgresConfig.parse("postgresql://db/jobs", Map.of(), env);
    assertThat(fromEnv.user()).isEqualTo("bob");
    assertThat(
            PostgresConfig.parse("postgresql://alice:uri-pass@db/jobs", Map.of(), env).password())
        .isEqualTo("uri-pass");
    assertThat(PostgresConfig.parse(DB, Map.of(), Map.of()).password()).isNull();
  }

  @Test
  void aFileThatCannotBeUsedIsAnErrorNamingTheSettingAndPathButNeverTheText() throws Exception {
    Path missing = dir.resolve("nope");
    assertThatThrownBy(
            () -> PostgresConfig.parse(DB + "?password-file=" + missing, Map.of(), Map.of()))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("password-file " + missing)
        .hasMessageContaining("cannot be read");
    Path big = Files.write(dir.resolve("big"), new byte[100_000]);
    assertThatThrownBy(() -> PostgresConfig.parse(DB + "?password-file=" + big, Map.of(), Map.of()))
        .hasMessageContaining("password-file " + big)
        .hasMessageContaining("over 64 KiB");
    Path f = Files.writeString(dir.resolve("pg-password"), "file-pass-3\n");
    assertThatThrownBy(
            () ->
                PostgresConfig.parse(
                    "postgresql://alice:uri-pass-3@db/jobs?password-file=" + f, Map.of(), Map.of()))
        .hasMessageContaining("give one")
        .hasMessageNotContaining("uri-pass-3")
        .hasMessageNotContaining("file-pass-3");
  }

  @Test
  void aStatementGoesUnansweredForTheSocketTimeoutAtMostFifteenSecondsUnlessSet() {
    assertThat(PostgresConfig.parse(DB, Map.of(), Map.of()).socketTimeout())
        .isEqualTo(java.time.Duration.ofSeconds(15));
    assertThat(PostgresConfig.parse(DB + "?socket-timeout=5", Map.of(), Map.of()).socketTimeout())
        .isEqualTo(java.time.Duration.ofSeconds(5));
    assertThatThrownBy(() -> PostgresConfig.parse(DB + "?socket-timeout=0", Map.of(), Map.of()))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("socket-timeout");
  }
}
