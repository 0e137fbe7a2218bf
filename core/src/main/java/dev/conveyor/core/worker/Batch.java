package dev.conveyor.core.worker;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.transport.Delivery;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One batch in flight, reused from batch to batch: direct, native-order input and output buffers
 * that the model reads and writes without copies, and which delivery went to which slot.
 * Preprocessing threads claim slots only for images that decoded, so the tensors are packed.
 */
final class Batch {
  final ByteBuffer inputBytes;
  final FloatBuffer input;
  final FloatBuffer output;
  final float[] scores;
  private final int capacity;
  private List<Delivery> deliveries = List.of();
  private int[] slotOf;
  private ConveyorException[] errors;
  private final AtomicInteger nextSlot = new AtomicInteger();
  private final AtomicInteger pending = new AtomicInteger();

  Batch(int capacity, int tensorSize, int classes) {
    this.capacity = capacity;
    this.inputBytes =
        ByteBuffer.allocateDirect(capacity * tensorSize * Float.BYTES)
            .order(ByteOrder.nativeOrder());
    this.input = inputBytes.asFloatBuffer();
    this.output = directFloats(capacity * classes);
    this.scores = new float[capacity * classes];
    this.slotOf = new int[capacity];
    this.errors = new ConveyorException[capacity];
  }

  private static FloatBuffer directFloats(int n) {
    return ByteBuffer.allocateDirect(n * Float.BYTES)
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  /** Starts a new batch of deliveries; every one must then be settled exactly once. */
  void reset(List<Delivery> next) {
    if (next.size() > capacity) {
      throw new IllegalArgumentException("batch of " + next.size() + " over capacity " + capacity);
    }
    deliveries = next;
    Arrays.fill(slotOf, -1);
    Arrays.fill(errors, null);
    nextSlot.set(0);
    pending.set(next.size());
  }

  List<Delivery> deliveries() {
    return deliveries;
  }

  /** Claims the next packed slot for delivery {@code i}. */
  int claimSlot(int i) {
    int slot = nextSlot.getAndIncrement();
    slotOf[i] = slot;
    return slot;
  }

  void fail(int i, ConveyorException error) {
    errors[i] = error;
  }

  /** Marks delivery {@code i} settled; returns true for the last one, whose caller hands on. */
  boolean settle() {
    return pending.decrementAndGet() == 0;
  }

  /** How many images were preprocessed into the input. */
  int filled() {
    return nextSlot.get();
  }

  int slotOf(int i) {
    return slotOf[i];
  }

  ConveyorException error(int i) {
    return errors[i];
  }
}
