package dev.conveyor.core.transport;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import java.util.List;
import java.util.Map;

/**
 * A results store that keeps, in the transaction that stores a batch's results, how far a reader
 * has read each partition of a log: a transport whose broker records consumption as positions
 * (Kafka's offsets) settles exactly once in such a store rather than in its broker ({@link
 * Transport#storeIn}). A reader resumes each partition at the position the store holds.
 */
public interface PositionStore extends ResultSink {

  /**
   * The positions stored for {@code log} as read by {@code reader}: for each partition with one,
   * the position of the next record to read.
   */
  Map<Integer, Long> positions(String reader, String log) throws Exception;

  /**
   * Stores the results and moves each partition of the batch from {@code from} (its position before
   * the batch) to {@code to} (after its last record), in one transaction; a partition with no
   * position yet is given one. When a partition's stored position is not {@code from}, another
   * reader (the partition's new owner, or this one before it was thought dead) stored it: nothing
   * is stored, and the positions the store holds are returned, to read again from.
   *
   * @return an empty map when stored; else the positions stored for the batch's partitions
   * @throws Exception when the store did not take them: nothing was stored
   */
  Map<Integer, Long> storeAt(
      String reader,
      String log,
      Map<Integer, Long> from,
      Map<Integer, Long> to,
      List<ImageRequest> requests,
      List<ClassifyResult> results)
      throws Exception;
}
