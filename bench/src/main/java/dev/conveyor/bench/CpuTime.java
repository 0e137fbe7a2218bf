package dev.conveyor.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.util.HashSet;
import java.util.Set;

/**
 * CPU time from the process's own accounting, in nanoseconds: the whole process (every thread, ONNX
 * Runtime's native ones and the JVM's collector and compiler included) and its Java threads one by
 * one, so that the load a bench run generates can be told from the work it measures.
 */
final class CpuTime {
  private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

  private CpuTime() {}

  /** The process's CPU time so far, user and system. */
  static long process() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
        .getProcessCpuTime();
  }

  /**
   * Another process's CPU time so far (the system's accounting, in clock ticks).
   *
   * @throws IllegalStateException when there is no such process, or its time cannot be read
   */
  static long otherProcess(long pid) {
    return ProcessHandle.of(pid)
        .flatMap(p -> p.info().totalCpuDuration())
        .orElseThrow(() -> new IllegalStateException("no CPU time for process " + pid))
        .toNanos();
  }

  /** The calling thread's CPU time so far. */
  static long currentThread() {
    return THREADS.getCurrentThreadCpuTime();
  }

  /** The ids of the live Java threads. */
  static Set<Long> threadIds() {
    Set<Long> ids = new HashSet<>();
    for (long id : THREADS.getAllThreadIds()) {
      ids.add(id);
    }
    return ids;
  }

  /** The CPU time so far of those of the threads that are still alive. */
  static long threads(Set<Long> ids) {
    long sum = 0;
    for (long id : ids) {
      long cpu = THREADS.getThreadCpuTime(id);
      if (cpu > 0) {
        sum += cpu;
      }
    }
    return sum;
  }

  /** The CPU time so far of the live Java threads whose names start with one of the prefixes. */
  static long threadsNamed(String... prefixes) {
    Set<Long> named = new HashSet<>();
    for (ThreadInfo info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
      if (info != null && startsWithAny(info.getThreadName(), prefixes)) {
        named.add(info.getThreadId());
      }
    }
    return threads(named);
  }

  private static boolean startsWithAny(String name, String[] prefixes) {
    for (String p : prefixes) {
      if (name.startsWith(p)) {
        return true;
      }
    }
    return false;
  }
}
