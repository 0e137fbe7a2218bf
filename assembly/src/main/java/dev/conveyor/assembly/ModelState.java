package dev.conveyor.assembly;

import java.util.List;

/**
 * A model's state in a {@link ModelSet}: the version serving it (0: none yet), the older versions
 * still finishing the batches they had, and the newest version that failed to open with why (0 and
 * null: none failed).
 */
public record ModelState(
    String name, long serving, List<Long> draining, long failedVersion, String failure) {}
