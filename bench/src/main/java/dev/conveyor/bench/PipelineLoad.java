package dev.conveyor.bench;

import dev.conveyor.core.ImageRequest;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives a pipeline at full load: sends requests cycling through the corpus with a fixed number in
 * flight (enough to keep every stage busy, and no more, so that latency is the pipeline's own), one
 * second of warm-up, then the measured window. Every pipeline measurement loads through one.
 *
 * <p>It also accounts the process's CPU time in the window, less what the load itself used: the
 * thread sending, and the threads of the load's own clients ({@code loadThreads}).
 */
final class PipelineLoad {
  /** Hands one request to the pipeline; its result must come back through {@link #done}. */
  interface Sender {
    void send(ImageRequest request) throws Exception;
  }

  private final Recorder latency = new Recorder(3);
  private final LongAdder completed = new LongAdder();
  private final AtomicBoolean measuring = new AtomicBoolean();
  private final Semaphore inFlight;
  private final LongSupplier loadThreads;
  private double cpuMsPerImage = Double.NaN;

  /**
   * @param loadThreads the CPU time so far of the threads that carry the load besides the sending
   *     one (a reply reader, an HTTP client's), in nanoseconds
   */
  PipelineLoad(int inFlight, LongSupplier loadThreads) {
    this.inFlight = new Semaphore(inFlight);
    this.loadThreads = loadThreads;
  }

  /** Runs the load; returns results per second in the measured window. */
  double run(Corpus corpus, double seconds, Phase phase, Sender sender) throws Exception {
    long warmupEnd = System.nanoTime() + 1_000_000_000L;
    long start = 0;
    long end = Long.MAX_VALUE;
    long[] cpu = null;
    for (int i = 0; System.nanoTime() < end; i++) {
      long now = System.nanoTime();
      if (start == 0 && now >= warmupEnd) {
        start = now;
        end = start + (long) (seconds * 1e9);
        latency.reset();
        completed.reset();
        measuring.set(true);
        cpu = cpuNow();
      }
      inFlight.acquire();
      sender.send(corpus.request(i));
      phase.tick();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    long[] after = cpuNow();
    measuring.set(false);
    long results = completed.sum();
    long worker = (after[0] - cpu[0]) - (after[1] - cpu[1]) - (after[2] - cpu[2]);
    cpuMsPerImage = results == 0 ? Double.NaN : worker / 1e6 / results;
    return results / elapsed;
  }

  private long[] cpuNow() {
    return new long[] {CpuTime.process(), CpuTime.currentThread(), loadThreads.getAsLong()};
  }

  /** A result came back, {@code nanos} after its request was made. */
  void done(long nanos) {
    inFlight.release();
    if (measuring.get()) {
      latency.recordValue(Math.max(1, nanos / 1000));
      completed.increment();
    }
  }

  /** A request failed without a result. */
  void failed() {
    inFlight.release();
  }

  /** Latencies in the measured window, in microseconds. */
  Histogram latency() {
    return latency.getIntervalHistogram();
  }

  /** What this load measured: {@code ips} from {@link #run}, with its latencies. */
  Measured measured(String name, double ips, double meanBatch) {
    return new Measured(name, ips, latency(), meanBatch, cpuMsPerImage);
  }
}
