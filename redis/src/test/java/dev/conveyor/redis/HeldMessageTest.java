package dev.conveyor.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class HeldMessageTest {
  private static byte[] message(int length) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (i * 31 + 7);
    }
    return b;
  }

  @Test
  void aMessageReadBackIsTheOneHeldAndOneThatDiffersInAnUnsampledByteIsNot() {
    byte[] held = message(100_000);
    Set<HeldMessage> inFlight = new HashSet<>();
    inFlight.add(new HeldMessage(held));
    assertThat(inFlight).contains(new HeldMessage(held.clone()));

    // a byte between the sampled ones: the same hash, and still another message
    byte[] other = held.clone();
    other[50_001]++;
    assertThat(new HeldMessage(other).hashCode()).isEqualTo(new HeldMessage(held).hashCode());
    assertThat(inFlight).doesNotContain(new HeldMessage(other));

    // messages that differ in their leading bytes (a request's id) hash apart
    byte[] id = held.clone();
    id[10]++;
    assertThat(new HeldMessage(id).hashCode()).isNotEqualTo(new HeldMessage(held).hashCode());
    assertThat(new HeldMessage(new byte[0])).isEqualTo(new HeldMessage(new byte[0]));
    assertThat(new HeldMessage(message(5))).isNotEqualTo(new HeldMessage(message(6)));
  }
}
