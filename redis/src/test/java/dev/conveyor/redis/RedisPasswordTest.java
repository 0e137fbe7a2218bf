package dev.conveyor.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import io.lettuce.core.RedisCredentials;
import io.lettuce.core.RedisCredentialsProvider;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** A Redis password from {@code password-file} or the environment, out of sight of {@code ps}. */
@Timeout(30)
class RedisPasswordTest {
  private static final Map<String, String> NO_ENV = Map.of();

  @TempDir Path dir;

  private static RedisCredentials credentials(RedisConfig a) {
    return ((RedisCredentialsProvider.ImmediateRedisCredentialsProvider)
            a.uri().getCredentialsProvider())
        .resolveCredentialsNow();
  }

  private Path file(String text) throws Exception {
    return Files.writeString(dir.resolve("redis-password"), text);
  }

  @Test
  void thePasswordFilesFirstLineIsThePasswordOfTheUsersNamedInTheUri() throws Exception {
    Path f = file("file-pass-1\nignored\n");
    RedisConfig a =
        RedisConfig.parse(
            "rediss://conveyor@cache:6380?mode=stream&password-file=" + f, Map.of(), NO_ENV);
    assertThat(credentials(a).getUsername()).isEqualTo("conveyor");
    assertThat(new String(credentials(a).getPassword())).isEqualTo("file-pass-1");
    assertThat(a.describe()).doesNotContain("file-pass-1");
    RedisConfig noUser = RedisConfig.parse("redis://cache?password-file=" + f, Map.of(), NO_ENV);
    assertThat(credentials(noUser).hasUsername()).isFalse();
    assertThat(new String(credentials(noUser).getPassword())).isEqualTo("file-pass-1");
  }

  @Test
  void aUriWithoutAPasswordTakesTheEnvironmentsAndOneWithAPasswordKeepsIt() {
    Map<String, String> env = Map.of(RedisPassword.VARIABLE, "env-pass-2");
    RedisConfig a = RedisConfig.parse("redis://conveyor@cache?mode=list", Map.of(), env);
    assertThat(credentials(a).getUsername()).isEqualTo("conveyor");
    assertThat(new String(credentials(a).getPassword())).isEqualTo("env-pass-2");
    RedisConfig inline = RedisConfig.parse("redis://alice:uri-pass@cache", Map.of(), env);
    assertThat(credentials(inline).getUsername()).isEqualTo("alice");
    assertThat(new String(credentials(inline).getPassword())).isEqualTo("uri-pass");
    // without a file or the variable, a bare user part is a password, as for redis-cli
    RedisConfig legacy = RedisConfig.parse("redis://bare-pass@cache", Map.of(), NO_ENV);
    assertThat(new String(legacy.uri().getPassword())).isEqualTo("bare-pass");
  }

  @Test
  void aFileThatCannotBeUsedIsAnErrorNamingTheSettingAndPathButNeverTheText() throws Exception {
    Path missing = dir.resolve("nope");
    assertThatThrownBy(
            () -> RedisConfig.parse("redis://cache?password-file=" + missing, Map.of(), NO_ENV))
        .isInstanceOf(ConveyorException.class)
        .satisfies(
            e -> assertThat(((ConveyorException) e).code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("password-file " + missing)
        .hasMessageContaining("cannot be read");
    Path empty = file("\nsecret-on-line-2\n");
    assertThatThrownBy(
            () -> RedisConfig.parse("redis://cache?password-file=" + empty, Map.of(), NO_ENV))
        .hasMessageContaining("password-file " + empty)
        .hasMessageNotContaining("secret-on-line-2");
    Path binary = Files.write(dir.resolve("binary"), new byte[] {'p', (byte) 0xff, 'w'});
    assertThatThrownBy(
            () -> RedisConfig.parse("redis://cache?password-file=" + binary, Map.of(), NO_ENV))
        .hasMessageContaining("not UTF-8");
    Path f = file("file-pass-3\n");
    assertThatThrownBy(
            () ->
                RedisConfig.parse("redis://:uri-pass-3@cache?password-file=" + f, Map.of(), NO_ENV))
        .hasMessageContaining("give one")
        .hasMessageNotContaining("uri-pass-3")
        .hasMessageNotContaining("file-pass-3");
  }
}
