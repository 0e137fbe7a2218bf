package dev.conveyor.s3;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fetch.ObjectStore;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.awscore.AwsRequestOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Puts images into a bucket under a key prefix, for {@code conveyor upload} and {@code bench
 * --store}, and keeps a model repository there: the same client settings and credentials chain as
 * the workers' fetcher. Whole files (a model's versions) are read and written within {@link
 * #FILE_TIMEOUT}, not the fetch timeout meant for images.
 */
final class S3ObjectStore implements ObjectStore {
  /** How long reading or writing one whole file may take, retries included. */
  static final Duration FILE_TIMEOUT = Duration.ofMinutes(30);

  private static final AwsRequestOverrideConfiguration FILES =
      AwsRequestOverrideConfiguration.builder().apiCallTimeout(FILE_TIMEOUT).build();

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

  @Override
  public List<Stored> list(String under) {
    String start = prefix.resolve("").key();
    List<Stored> found = new ArrayList<>();
    try {
      for (S3Object o :
          s3.listObjectsV2Paginator(b -> b.bucket(prefix.bucket()).prefix(start + under))
              .contents()) {
        found.add(new Stored(o.key().substring(start.length()), o.size(), o.eTag()));
      }
    } catch (SdkException e) {
      throw failed(prefix.resolve(under).toString(), e);
    }
    return found;
  }

  @Override
  public void get(String name, Path to) {
    S3Location at = prefix.resolve(name);
    try (InputStream in =
        s3.getObject(b -> b.bucket(at.bucket()).key(at.key()).overrideConfiguration(FILES))) {
      Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
    } catch (SdkException e) {
      throw failed(at.toString(), e);
    } catch (IOException e) {
      throw new ConveyorException(
          ErrorCode.UNAVAILABLE, "cannot read " + at + " into " + to + ": " + e.getMessage(), e);
    }
  }

  @Override
  public boolean putNew(String name, Path from) {
    S3Location at = prefix.resolve(name);
    try {
      s3.headObject(b -> b.bucket(at.bucket()).key(at.key()));
      return false;
    } catch (NoSuchKeyException e) {
      // free: put it, on the condition that it still is where the store can check that
    } catch (S3Exception e) {
      if (e.statusCode() != 404) {
        throw failed(at.toString(), e);
      }
    } catch (SdkException e) {
      throw failed(at.toString(), e);
    }
    try {
      s3.putObject(
          b ->
              b.bucket(at.bucket())
                  .key(at.key())
                  .ifNoneMatch("*")
                  .contentType("application/octet-stream")
                  .overrideConfiguration(FILES),
          RequestBody.fromFile(from));
      return true;
    } catch (S3Exception e) {
      if (e.statusCode() == 412 || e.statusCode() == 409) {
        return false; // another writer took the name first
      }
      throw failed(at.toString(), e);
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
