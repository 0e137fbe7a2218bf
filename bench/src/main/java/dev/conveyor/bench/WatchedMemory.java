package dev.conveyor.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The processes whose resident memory a soak watches, by name, in the order they were added: this
 * one and others on this machine (from {@code /proc}), or a server elsewhere (from its metrics). It
 * reads them all at each sample, and sums each one up over the run.
 */
final class WatchedMemory {
  private final Map<String, LongSupplier> processes = new LinkedHashMap<>();

  /** Watches a process by what reads its resident memory in kB. */
  void add(String process, LongSupplier kb) {
    processes.put(process, kb);
  }

  /** Watches a process of this machine by its id. */
  void add(long pid) {
    add("pid " + pid, () -> status(Path.of("/proc/" + pid + "/status"), "VmRSS:"));
  }

  /** Watches this process. */
  void addThisProcess() {
    add("this process", () -> status(Path.of("/proc/self/status"), "VmRSS:"));
  }

  /** Each process's resident memory now, in kB. */
  Map<String, Long> read() {
    Map<String, Long> rss = new LinkedHashMap<>();
    processes.forEach((process, kb) -> rss.put(process, kb.getAsLong()));
    return rss;
  }

  /**
   * Each process's memory over the run: after warm-up and at the end of the load (the first {@code
   * loadEnd} samples), and its peak (over every sample, the drain's too).
   */
  List<Soak.Memory> over(List<Soak.Sample> samples, int loadEnd) {
    List<Soak.Memory> memory = new ArrayList<>();
    for (String process : processes.keySet()) {
      List<Long> rss =
          samples.subList(0, Math.max(1, loadEnd)).stream()
              .map(x -> x.rssKb().get(process))
              .toList();
      memory.add(
          new Soak.Memory(
              process,
              rss.get(rss.size() / 10),
              rss.get(rss.size() - 1),
              samples.stream().mapToLong(x -> x.rssKb().get(process)).max().orElse(0)));
    }
    return memory;
  }

  /** A line of a {@code /proc/…/status} file in kB, or 0 where there is none. */
  static long status(Path file, String field) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or the process is gone: no figure
    }
    return 0;
  }
}
