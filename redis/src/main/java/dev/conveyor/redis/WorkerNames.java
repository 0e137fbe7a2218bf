package dev.conveyor.redis;

import dev.conveyor.core.worker.HostName;
import java.util.UUID;

/**
 * Names of workers in Redis (consumer names, processing lists): host, process, and a random tag.
 */
final class WorkerNames {
  private WorkerNames() {}

  static String next() {
    return HostName.get()
        + "-"
        + ProcessHandle.current().pid()
        + "-"
        + UUID.randomUUID().toString().substring(0, 8);
  }
}
