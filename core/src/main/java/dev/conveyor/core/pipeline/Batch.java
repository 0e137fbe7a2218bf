package dev.conveyor.core.pipeline;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ImageRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One batch's buffers, reused from batch to batch: direct, native-order input and output that the
 * model reads and writes without copies, and which request went to which slot. Images are packed:
 * only those that decoded claim a slot. Made by {@link Pipeline#newBatch}; used by one batch at a
 * time.
 */
public final class Batch {
  final ByteBuffer inputBytes;
  final FloatBuffer input;
  final FloatBuffer output;
  final float[] scores;
  private final int capacity;
  private List<ImageRequest> requests = List.of();
  private final int[] slotOf;
  private final ConveyorException[] errors;
  private final CompletableFuture<byte[]>[] fetches;
  private final AtomicInteger nextSlot = new AtomicInteger();
  private final AtomicInteger pending = new AtomicInteger();

  Batch(int capacity, int tensorSize, int classes) {
    this.capacity = capacity;
    this.inputBytes =
        ByteBuffer.allocateDirect(capacity * tensorSize * Float.BYTES)
            .order(ByteOrder.nativeOrder());
    this.input = inputBytes.asFloatBuffer();
    this.output =
        ByteBuffer.allocateDirect(capacity * classes * Float.BYTES)
            .order(ByteOrder.nativeOrder())
            .asFloatBuffer();
    this.scores = new float[capacity * classes];
    this.slotOf = new int[capacity];
    this.errors = new ConveyorException[capacity];
    @SuppressWarnings("unchecked")
    CompletableFuture<byte[]>[] f = new CompletableFuture[capacity];
    this.fetches = f;
  }

  /** The most requests it holds. */
  public int capacity() {
    return capacity;
  }

  /**
   * Starts a new batch of requests; each must then be {@link Pipeline#prepare prepared} once.
   * {@link Pipeline#begin} also starts fetching the images that requests carry by key.
   */
  public void reset(List<ImageRequest> next) {
    if (next.size() > capacity) {
      throw new IllegalArgumentException("batch of " + next.size() + " over capacity " + capacity);
    }
    requests = next;
    Arrays.fill(slotOf, -1);
    Arrays.fill(errors, null);
    Arrays.fill(fetches, null);
    nextSlot.set(0);
    pending.set(next.size());
  }

  public List<ImageRequest> requests() {
    return requests;
  }

  /** The error that request {@code i} failed with before the model, or {@code null}. */
  public ConveyorException error(int i) {
    return errors[i];
  }

  int claimSlot(int i) {
    int slot = nextSlot.getAndIncrement();
    slotOf[i] = slot;
    return slot;
  }

  /** Request {@code i}'s image being fetched, or {@code null} when it is not. */
  CompletableFuture<byte[]> fetch(int i) {
    return fetches[i];
  }

  void fetching(int i, CompletableFuture<byte[]> bytes) {
    fetches[i] = bytes;
  }

  void fail(int i, ConveyorException error) {
    errors[i] = error;
  }

  /** Marks one request prepared; true for the last one, whose caller hands the batch on. */
  boolean settle() {
    return pending.decrementAndGet() == 0;
  }

  /** How many images were preprocessed into the input: what the model runs on. */
  public int filled() {
    return nextSlot.get();
  }

  int slotOf(int i) {
    return slotOf[i];
  }
}
