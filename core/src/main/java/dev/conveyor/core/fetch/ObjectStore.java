package dev.conveyor.core.fetch;

/**
 * Where images are put for workers to fetch by key: a bucket and a key prefix in an object store
 * ({@code s3://bucket/prefix}). Opened by {@link ObjectStores#open} from the store's URI, so that
 * commands put images without naming the store; it holds its client until closed.
 */
public interface ObjectStore extends AutoCloseable {

  /** The bucket, as a URI for people: {@code s3://bucket/}. */
  String bucket();

  /**
   * Checks that the bucket is there, or makes it.
   *
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} when it is missing and
   *     {@code create} is off
   */
  void checkBucket(boolean create);

  /** The key an object named {@code name} is put under: the store's prefix, then the name. */
  String key(String name);

  /**
   * Puts one object under {@link #key(String) key(name)}.
   *
   * @return the reference workers fetch it by: {@code s3://bucket/key}
   * @throws dev.conveyor.core.ConveyorException {@code UNAVAILABLE} when the store refuses it
   */
  String put(String name, byte[] bytes, String contentType);

  @Override
  void close();
}
