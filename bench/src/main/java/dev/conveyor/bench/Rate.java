package dev.conveyor.bench;

import java.lang.management.ManagementFactory;

/**
 * A measured stage: images per second, and the CPU time the process spent per image meanwhile, in
 * milliseconds (all its threads, ONNX Runtime's native ones included). CPU time per image does not
 * move with what else shares the machine, as images per second does.
 */
public record Rate(double ips, double cpuMsPerImage) {
  /** The process's CPU time so far, in nanoseconds: every thread, user and system. */
  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }
}
