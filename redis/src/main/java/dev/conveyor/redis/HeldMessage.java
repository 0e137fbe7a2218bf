package dev.conveyor.redis;

import java.util.Arrays;

/**
 * A list message a worker holds, as a set's key: equal to another by its whole content, as the
 * message read back from the processing list is, and hashed on a sample of its bytes. A request's
 * image is most of its message, and hashing all of it at every take and every acknowledgement cost
 * the worker more CPU than reading the message's JSON.
 */
final class HeldMessage {
  /** Leading bytes hashed whole: a request's JSON begins with its id. */
  private static final int HEAD = 96;

  /** Bytes sampled across the rest, evenly spaced, and the same number at its end. */
  private static final int SAMPLES = 32;

  private final byte[] bytes;
  private final int hash;

  HeldMessage(byte[] bytes) {
    this.bytes = bytes;
    this.hash = hash(bytes);
  }

  private static int hash(byte[] b) {
    int h = b.length;
    int head = Math.min(HEAD, b.length);
    for (int i = 0; i < head; i++) {
      h = 31 * h + b[i];
    }
    int rest = b.length - head;
    if (rest > 0) {
      int step = Math.max(1, rest / SAMPLES);
      for (int i = head; i < b.length; i += step) {
        h = 31 * h + b[i];
      }
      for (int i = Math.max(head, b.length - SAMPLES); i < b.length; i++) {
        h = 31 * h + b[i];
      }
    }
    return h;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof HeldMessage m && m.hash == hash && Arrays.equals(m.bytes, bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }
}
