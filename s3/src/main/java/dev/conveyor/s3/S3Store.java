package dev.conveyor.s3;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.settings.Settings;
import java.util.Map;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Puts images into a bucket, for {@code conveyor upload}: the same client settings and credentials
 * chain as the workers' fetcher.
 */
public final class S3Store implements AutoCloseable {
  private final S3Client s3;

  private S3Store(S3Client s3) {
    this.s3 = s3;
  }

  /**
   * @param settings {@link FetchSettings} by name
   */
  public static S3Store open(Map<String, String> settings) {
    return new S3Store(S3Clients.open(Settings.read(settings, "s3", FetchSettings.SETTINGS)));
  }

  /**
   * Checks that the bucket is there, or makes it.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when it is missing and {@code create} is off
   */
  public void bucket(String bucket, boolean create) {
    try {
      s3.headBucket(b -> b.bucket(bucket));
    } catch (NoSuchBucketException e) {
      if (!create) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "no bucket " + bucket + ": create it, or add --create-bucket");
      }
      s3.createBucket(b -> b.bucket(bucket));
    } catch (S3Exception e) {
      if (e.statusCode() == 404 && create) {
        s3.createBucket(b -> b.bucket(bucket));
        return;
      }
      throw failed("bucket " + bucket, e);
    } catch (SdkException e) {
      throw failed("bucket " + bucket, e);
    }
  }

  /** Puts one object. */
  public void put(S3Location at, byte[] bytes, String contentType) {
    try {
      s3.putObject(
          b -> b.bucket(at.bucket()).key(at.key()).contentType(contentType),
          RequestBody.fromBytes(bytes));
    } catch (SdkException e) {
      throw failed(at.toString(), e);
    }
  }

  private static ConveyorException failed(String what, SdkException e) {
    String why =
        e instanceof S3Exception s
            ? "HTTP " + s.statusCode() + " " + s.awsErrorDetails().errorCode()
            : e.getMessage();
    return new ConveyorException(ErrorCode.UNAVAILABLE, "S3 refused " + what + ": " + why);
  }

  @Override
  public void close() {
    s3.close();
  }
}
