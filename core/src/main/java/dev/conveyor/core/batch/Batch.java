package dev.conveyor.core.batch;

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
 * only those that decoded claim a slot. Made by the pipeline (Pipeline.newBatch); used by one batch
 * at a time.
 */
public final class Batch {
  private final ByteBuffer inputBytes;
  private final FloatBuffer input;
  private final FloatBuffer output;
  private final float[] scores;
  private final int capacity;
  private List<ImageRequest> requests = List.of();
  private final int[] slotOf;
  private final ConveyorException[] errors;
  private final CompletableFuture<byte[]>[] fetches;
  private final AtomicInteger nextSlot = new AtomicInteger();
  private final AtomicInteger pending = new AtomicInteger();

  public Batch(int capacity, int tensorSize, int classes) {
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

  /** The model's input: the whole batch's tensors, as bytes (native order). */
  public ByteBuffer inputBytes() {
    return inputBytes;
  }

  /** The model's input, as floats. */
  public FloatBuffer input() {
    return input;
  }

  /** The model's output: one row of scores per filled slot. */
  public FloatBuffer output() {
    return output;
  }

  /** Room for one image's scores, reused. */
  public float[] scores() {
    return scores;
  }

  /** The most requests it holds. */
  public int capacity() {
    return capacity;
  }

  /**
   * Starts a new batch of requests; each must then be prepared (Pipeline.prepare) once.
   * Pipeline.begin also starts fetching the images that requests carry by key.
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

  public int claimSlot(int i) {
    int slot = nextSlot.getAndIncrement();
    slotOf[i] = slot;
    return slot;
  }

  /** Request {@code i}'s image being fetched, or {@code null} when it is not. */
  public CompletableFuture<byte[]> fetch(int i) {
    return fetches[i];
  }

  public void fetching(int i, CompletableFuture<byte[]> bytes) {
    fetches[i] = bytes;
  }

  public void fail(int i, ConveyorException error) {
    errors[i] = error;
  }

  /** Marks one request prepared; true for the last one, whose caller hands the batch on. */
  public boolean settle() {
    return pending.decrementAndGet() == 0;
  }

  /** How many images were preprocessed into the input: what the model runs on. */
  public int filled() {
    return nextSlot.get();
  }

  public int slotOf(int i) {
    return slotOf[i];
  }
}
