package dev.conveyor.s3;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fetch.ObjectStore;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Puts images into a bucket under a key prefix, for {@code conveyor upload} and {@code bench
 * --store}: the same client settings and credentials chain as the workers' fetcher.
 */
final class S3ObjectStore implements ObjectStore {
  private final S3Client s3;
  private final S3Location prefix;

  S3ObjectStore(S3Client s3, S3Location prefix) {
    this.s3 = s3;
    this.prefix = prefix;
  }

  @Override
  public String bucket() {
    return "s3://" + prefix.bucket() + "/";
  }

  @Override
  public void checkBucket(boolean create) {
    String bucket = prefix.bucket();
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

  @Override
  public String key(String name) {
    return prefix.resolve(name).key();
  }

  @Override
  public String put(String name, byte[] bytes, String contentType) {
    S3Location at = prefix.resolve(name);
    try {
      s3.putObject(
          b -> b.bucket(at.bucket()).key(at.key()).contentType(contentType),
          RequestBody.fromBytes(bytes));
    } catch (SdkException e) {
      throw failed(at.toString(), e);
    }
    return at.toString();
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
