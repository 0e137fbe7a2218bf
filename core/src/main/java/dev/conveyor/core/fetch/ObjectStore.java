package dev.conveyor.core.fetch;

/**
 * Where images are put for workers to fetch by key, and where a model repository may be kept: a
 * bucket and a key prefix in an object store ({@code s3://bucket/prefix}). Opened by {@link
 * ObjectStores#open} from the store's URI, so that commands put images without naming the store; it
 * holds its client until closed.
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

  /** An object of the store: its name under the prefix, its size, and its version's tag. */
  record Stored(String name, long size, String tag) {}

  /**
   * The objects whose names (under the store's prefix) start with {@code under}, all of them for
   * {@code ""}, each named as {@link #put} names it.
   *
   * @throws dev.conveyor.core.ConveyorException {@code UNAVAILABLE} when they cannot be listed
   */
  java.util.List<Stored> list(String under);

  /**
   * Copies the object named {@code name} into the file {@code to}, replacing it.
   *
   * @throws dev.conveyor.core.ConveyorException {@code UNAVAILABLE} when it cannot be read
   */
  void get(String name, java.nio.file.Path to);

  /**
   * Puts the file {@code from} as the object named {@code name}, unless one is there already.
   *
   * @return whether it was put: false when the name was taken
   * @throws dev.conveyor.core.ConveyorException {@code UNAVAILABLE} when the store refuses it
   */
  boolean putNew(String name, java.nio.file.Path from);

  @Override
  void close();
}
