package dev.conveyor.core.fetch;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fuzz.FuzzRuns;
import dev.conveyor.core.settings.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;

/**
 * References as a producer writes them, under a coverage-guided fuzzer, against a worker allowed
 * one folder and one bucket prefix. The folder holds one small image, one file over the size limit,
 * a link out of it to {@code /etc/passwd} and a folder; whatever the key, the fetcher gives the
 * image's bytes, {@code TOO_LARGE}, or the one {@code NOT_FOUND} answer, and nothing else: no byte
 * of any other file and no other exception.
 */
class FetchAllowFuzzTest {
  private static final FuzzRuns RUNS = new FuzzRuns(FetchAllowFuzzTest.class);
  private static final byte[] IMAGE = {(byte) 0x89, 'P', 'N', 'G', 1, 2, 3};
  private static final Path ROOT = root();
  private static final Fetchers FETCH =
      new Fetchers(
          Settings.read(
              Map.of("fetch-allow", "file:" + ROOT + ",s3://bucket/pre/"),
              "fuzz",
              FetchSettings.SETTINGS));
  private static final String[] STARTS = {
    "",
    "/",
    ROOT + "/",
    "file:" + ROOT + "/",
    "file://" + ROOT + "/",
    "s3://bucket/pre/",
    "s3://",
    "file:",
    ROOT + "/sub/../",
    ROOT + "/../",
    "/etc/",
    "/dev/",
    "http://"
  };

  private static Path root() {
    try {
      Path dir = Files.createTempDirectory("conveyor-fetch-fuzz");
      Files.write(dir.resolve("a.png"), IMAGE);
      Files.write(dir.resolve("big.bin"), new byte[5000]);
      Files.createDirectories(dir.resolve("sub"));
      Files.createSymbolicLink(dir.resolve("out"), Path.of("/etc/passwd"));
      Files.createSymbolicLink(dir.resolve("up"), Path.of("/etc"));
      return dir.toRealPath();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @FuzzTest(maxDuration = "10s")
  void fetch(FuzzedDataProvider data) {
    RUNS.ran();
    String key = data.pickValue(STARTS) + data.consumeRemainingAsString();
    try {
      byte[] bytes = FETCH.fetch(key, 4096);
      assertThat(bytes).as(key).isEqualTo(IMAGE);
    } catch (ConveyorException e) {
      assertThat(e.code()).as(key).isIn(ErrorCode.NOT_FOUND, ErrorCode.TOO_LARGE);
      if (e.code() == ErrorCode.NOT_FOUND) {
        assertThat(e.getMessage()).isEqualTo(FetchAllow.DENIED_MESSAGE);
      }
    }
  }

  @AfterAll
  static void report() {
    RUNS.report();
  }
}
