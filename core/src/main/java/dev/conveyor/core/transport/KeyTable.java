package dev.conveyor.core.transport;

import dev.conveyor.core.ImageRequest;
import java.util.Collection;
import java.util.function.Consumer;

/**
 * A table of image keys, as seed 004 keeps them ({@code image_info(image_key)}): written as images
 * are uploaded, read to send a request for each key. A broker that keeps such tables offers one
 * through {@link Broker#keys()}, so that commands read and write keys without naming the broker.
 * Each call opens and closes its own connection.
 */
public interface KeyTable {

  /** The table and its column, without secrets, for people. */
  String describe();

  /** How many keys {@link #forEach} would hand on. */
  long count(boolean onlyNew);

  /**
   * Hands on, in key order, a request for every key: its id is the key, and it refers to the image
   * by the key with the address's key prefix before it ({@code s3://bucket/} + key), for workers to
   * fetch. With {@code onlyNew}, only keys that have no result stored yet.
   *
   * @return how many requests were handed on
   */
  long forEach(boolean onlyNew, Consumer<ImageRequest> requests);

  /**
   * Adds keys to the table (made when missing); a key already there is not added twice.
   *
   * @return how many keys were added: those that were not there already
   */
  long insert(Collection<String> keys);
}
