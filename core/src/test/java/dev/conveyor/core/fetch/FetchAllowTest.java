package dev.conveyor.core.fetch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a request may name to be fetched: only what {@code --fetch-allow} allows, local files
 * confined to their folders after links are followed, and one answer for everything refused.
 */
@Timeout(30)
class FetchAllowTest {
  @TempDir Path dir;

  private Fetchers fetchers(String allow) {
    return new Fetchers(
        Settings.read(Map.of("fetch-allow", allow), "test", FetchSettings.SETTINGS));
  }

  private static void refused(Fetchers f, String key) {
    assertThatThrownBy(() -> f.fetch(key, 1 << 20))
        .as(key)
        .isInstanceOfSatisfying(
            ConveyorException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND);
              assertThat(e.getMessage()).isEqualTo(FetchAllow.DENIED_MESSAGE);
            });
  }

  @Test
  void byDefaultNoLocalFileIsRead() throws Exception {
    Path image = Files.write(dir.resolve("a.png"), TestImages.bytes("palette-blue.png"));
    Fetchers f = new Fetchers(Settings.read(Map.of(), "test", FetchSettings.SETTINGS));
    assertThat(f.allowed().toString()).isEqualTo("s3://");
    for (String key :
        new String[] {
          image.toString(),
          "file://" + image,
          "file:" + image,
          "/etc/passwd",
          "/proc/self/environ",
          "/dev/zero",
          "../../../../etc/passwd",
          "http://127.0.0.1/x.png",
          "jar:file:/x!/y",
          "ftp://host/x"
        }) {
      refused(f, key);
    }
  }

  @Test
  void allowedFoldersConfineFilesAfterLinksAreFollowed() throws Exception {
    Path allowed = Files.createDirectories(dir.resolve("images"));
    Path outside = Files.createDirectories(dir.resolve("private"));
    byte[] png = TestImages.bytes("palette-blue.png");
    Path image = Files.write(allowed.resolve("a.png"), png);
    Path secret = Files.write(outside.resolve("secret.png"), png);
    Files.createSymbolicLink(allowed.resolve("link.png"), secret);
    Files.createSymbolicLink(allowed.resolve("up"), outside);
    Files.createDirectories(allowed.resolve("sub"));
    Path fifo = allowed.resolve("fifo");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mkfifo.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(mkfifo.exitValue()).isZero();
    Fetchers f = fetchers("file:" + allowed);
    assertThat(f.fetch(image.toString(), 1 << 20)).isEqualTo(png);
    assertThat(f.fetch("file://" + image, 1 << 20)).isEqualTo(png);
    assertThat(f.fetch(allowed + "/sub/../a.png", 1 << 20)).isEqualTo(png);
    refused(f, secret.toString());
    refused(f, allowed + "/link.png"); // a link out of the folder
    refused(f, allowed + "/up/secret.png"); // a folder link out of it
    refused(f, allowed + "/../private/secret.png");
    refused(f, allowed + "/sub"); // a folder
    refused(f, fifo.toString()); // a FIFO would block a fetch thread for ever
    refused(f, allowed + "/missing.png");
    refused(f, allowed + "/a.png\0.txt");
    refused(f, dir + "/images-evil/a.png"); // a sibling sharing the folder's name as a prefix
  }

  @Test
  void devicesAreRefusedEvenUnderAnAllowedFolder() {
    Fetchers f = fetchers("file:/dev");
    refused(f, "/dev/zero"); // endless, and its reported size is 0
    refused(f, "/dev/urandom");
    refused(f, "/dev/null");
  }

  @Test
  void theSizeLimitHoldsOnTheBytesRead() throws Exception {
    Path big = Files.write(dir.resolve("big.png"), new byte[5000]);
    Fetchers f = fetchers("file:" + dir);
    assertThatThrownBy(() -> f.fetch(big.toString(), 4096))
        .isInstanceOfSatisfying(
            ConveyorException.class,
            e -> {
              assertThat(e.code()).isEqualTo(ErrorCode.TOO_LARGE);
              assertThat(e.getMessage()).doesNotContain("5000");
            });
  }

  @Test
  void storeRulesNameSchemesBucketsAndPrefixes() {
    FetchAllow allow = FetchAllow.parse("s3://images/cats/, s3://public");
    assertThat(allow.allowsStore("s3", "images", "cats/1.png")).isTrue();
    assertThat(allow.allowsStore("s3", "images", "dogs/1.png")).isFalse();
    assertThat(allow.allowsStore("s3", "public", "any/key.png")).isTrue();
    assertThat(allow.allowsStore("s3", "publicity", "x.png")).isFalse();
    assertThat(allow.allowsStore("gs", "public", "x.png")).isFalse();
    assertThat(FetchAllow.parse("s3://").allowsStore("s3", "any", "k")).isTrue();
    assertThat(FetchAllow.parse("none").allowsStore("s3", "any", "k")).isFalse();
    assertThat(FetchAllow.parse("none").allowsFiles()).isFalse();
    assertThatThrownBy(() -> FetchAllow.parse("file:relative/dir"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> FetchAllow.parse("images/cats"))
        .isInstanceOf(IllegalArgumentException.class);
    Fetchers f = fetchers("s3://images/cats/");
    refused(f, "s3://images/dogs/1.png");
    refused(f, "s3://images/cats/../dogs/1.png"); // a segment a store could resolve
    refused(f, "s3://other/cats/1.png");
    refused(f, "s3://images");
  }

  @Test
  void anInvalidRuleIsASettingError() {
    assertThatThrownBy(() -> fetchers("images"))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("fetch-allow");
  }
}
