package dev.conveyor.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.fetch.ObjectStores;
import dev.conveyor.core.settings.Settings;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class S3FetcherTest {
  @Test
  void readingStopsAsSoonAsMoreThanTheLimitArrivesWithoutReadingTheRest() throws Exception {
    long[] served = {0};
    InputStream endless =
        new InputStream() {
          @Override
          public int read() {
            served[0]++;
            return 7;
          }

          @Override
          public int read(byte[] b, int off, int len) {
            served[0] += len;
            java.util.Arrays.fill(b, off, off + len, (byte) 7);
            return len;
          }
        };
    assertThat(S3Fetcher.readAtMost(endless, 1_000_000, 1000)).isNull();
    assertThat(served[0]).isLessThan(1_000_000 + 128 * 1024);
    assertThat(S3Fetcher.readAtMost(new ByteArrayInputStream(new byte[500]), 500, 500))
        .hasSize(500);
  }

  @Test
  void referencesAreReadAsBucketAndKey() {
    assertThat(S3Location.parse("s3://my-bucket/a/b/c.jpg"))
        .isEqualTo(new S3Location("my-bucket", "a/b/c.jpg"));
    assertThat(S3Location.parse("s3://my-bucket").resolve("x.png"))
        .isEqualTo(new S3Location("my-bucket", "x.png"));
    assertThat(S3Location.parse("s3://my-bucket/pre").resolve("x.png").toString())
        .isEqualTo("s3://my-bucket/pre/x.png");
    assertThatThrownBy(() -> S3Location.parse("s3://A_B/x"))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.BAD_REQUEST));
    assertThatThrownBy(() -> S3Location.parse("http://x/y")).hasMessageContaining("not an s3://");
  }

  @Test
  void anObjectStoreIsFoundByItsSchemeAndABadAddressIsASettingError() {
    Settings settings = Settings.read(Map.of(), "test", FetchSettings.SETTINGS);
    assertThatThrownBy(() -> ObjectStores.open("s3://A_B/x", settings))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("not a bucket name");
    assertThatThrownBy(() -> ObjectStores.open("gs://bucket/x", settings))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("no object store for 'gs://bucket/x'")
        .hasMessageContaining("s3://bucket/prefix");
  }
}
