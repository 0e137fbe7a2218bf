package dev.conveyor.assembly;

import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ModelSet}'s memory budget: the models kept open within so many bytes of model files
 * (about what ONNX Runtime holds of their weights). Opening one more closes the least recently used
 * others, the default model last, until it fits; a model closed so opens again when next asked for.
 */
final class ModelBudget {
  private static final Logger LOG = LoggerFactory.getLogger(ModelSet.class);

  private final long bytes;
  private final String defaultModel;

  ModelBudget(long bytes, String defaultModel) {
    this.bytes = bytes;
    this.defaultModel = defaultModel;
  }

  /**
   * Closes least recently used models of {@code slots} (guarded by {@code lock}) until {@code
   * needed} more bytes fit, for {@code wanting}'s model.
   */
  void makeRoom(Object lock, Map<String, ModelSlot> slots, ModelSlot wanting, long needed) {
    while (true) {
      ModelSlot victim = null;
      long used = 0;
      synchronized (lock) {
        for (ModelSlot s : slots.values()) {
          if (s != wanting && s.serving != null) {
            used += s.bytes;
            victim = victim == null || sooner(s, victim) ? s : victim;
          }
        }
        if (victim == null || used + needed <= bytes) {
          return;
        }
        slots.remove(victim.name);
      }
      if (victim.stop() != null) {
        LOG.info(
            "model {} closed to make room for {} within the memory budget; it opens again when"
                + " next asked for",
            victim.name,
            wanting.name);
      }
    }
  }

  /** Whether {@code a} is closed before {@code b}: the default model last. */
  private boolean sooner(ModelSlot a, ModelSlot b) {
    boolean aDefault = a.name.equals(defaultModel);
    boolean bDefault = b.name.equals(defaultModel);
    return aDefault != bDefault ? bDefault : a.lastUsed < b.lastUsed;
  }
}
