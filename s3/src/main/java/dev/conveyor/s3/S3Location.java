package dev.conveyor.s3;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;

/** A bucket and a key (or a key prefix), from {@code s3://bucket/key}. */
public record S3Location(String bucket, String key) {
  /**
   * Reads {@code s3://bucket/key}; the key may be empty for a whole bucket.
   *
   * @throws ConveyorException {@code BAD_REQUEST} for anything else
   */
  public static S3Location parse(String uri) {
    if (uri == null || !uri.startsWith("s3://")) {
      throw new ConveyorException(
          ErrorCode.BAD_REQUEST, "not an s3://bucket/key reference: " + uri);
    }
    String rest = uri.substring(5);
    int slash = rest.indexOf('/');
    String bucket = slash < 0 ? rest : rest.substring(0, slash);
    String key = slash < 0 ? "" : rest.substring(slash + 1);
    if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      throw new ConveyorException(
          ErrorCode.BAD_REQUEST, "not a bucket name in " + uri + ": 3 to 63 of a-z, 0-9, '.', '-'");
    }
    return new S3Location(bucket, key);
  }

  /** The location of {@code name} under this one as a prefix: {@code s3://b/pre/} + name. */
  public S3Location resolve(String name) {
    if (key.isEmpty()) {
      return new S3Location(bucket, name);
    }
    return new S3Location(bucket, key.endsWith("/") ? key + name : key + "/" + name);
  }

  @Override
  public String toString() {
    return "s3://" + bucket + "/" + key;
  }
}
