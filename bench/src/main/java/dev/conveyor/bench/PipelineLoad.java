package dev.conveyor.bench;

import dev.conveyor.core.ImageRequest;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Drives a pipeline at full load: sends requests cycling through the corpus with a fixed number in
 * flight (enough to keep every stage busy, and no more, so that latency is the pipeline's own), a
 * warm-up, then the measured window. Every pipeline measurement loads through one.
 *
 * <p>It also accounts the workers' CPU time in the window: this process's less what the load itself
 * used, or that of the worker processes elsewhere.
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
  private final int mostInFlight;
  private final LongSupplier workerCpu;
  private final long warmupNanos;
  private double cpuMsPerImage = Double.NaN;

  /**
   * @param workerCpu the CPU time so far of the worker being loaded, in nanoseconds; read on the
   *     sending thread at the start and the end of the measured window
   */
  private PipelineLoad(int inFlight, LongSupplier workerCpu, Duration warmup) {
    this.inFlight = new Semaphore(inFlight);
    this.mostInFlight = inFlight;
    this.workerCpu = workerCpu;
    this.warmupNanos = warmup.toNanos();
  }

  /**
   * A load on workers in this process: their CPU time is the process's less the sending thread's
   * and {@code loadThreads}', the CPU time so far of the other threads that carry the load (a reply
   * reader, an HTTP client's threads).
   */
  static PipelineLoad inThisProcess(int inFlight, LongSupplier loadThreads) {
    return new PipelineLoad(
        inFlight,
        () -> CpuTime.process() - CpuTime.currentThread() - loadThreads.getAsLong(),
        Duration.ofSeconds(1));
  }

  /**
   * A load on workers in other processes, whose CPU time is read from the system.
   *
   * @param warmup load before the measured window: a worker started for the run compiles its hot
   *     code (request decoding, the broker client, preprocessing) only once the load comes, which
   *     in its first seconds costs it a fifth more CPU per image
   */
  static PipelineLoad onProcesses(int inFlight, List<Long> pids, Duration warmup) {
    return new PipelineLoad(
        inFlight,
        () -> {
          long sum = 0;
          for (long pid : pids) {
            sum += CpuTime.otherProcess(pid);
          }
          return sum;
        },
        warmup);
  }

  /**
   * Runs the load, then waits (two minutes at most) for the answers still in flight; returns
   * results per second in the measured window.
   */
  double run(Corpus corpus, double seconds, Phase phase, Sender sender) throws Exception {
    long warmupEnd = System.nanoTime() + warmupNanos;
    long start = 0;
    long end = Long.MAX_VALUE;
    long cpu = 0;
    for (int i = 0; System.nanoTime() < end; i++) {
      long now = System.nanoTime();
      if (start == 0 && now >= warmupEnd) {
        start = now;
        end = start + (long) (seconds * 1e9);
        latency.reset();
        completed.reset();
        measuring.set(true);
        cpu = workerCpu.getAsLong();
      }
      inFlight.acquire();
      sender.send(corpus.request(i));
      phase.tick();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    long worker = workerCpu.getAsLong() - cpu;
    measuring.set(false);
    long results = completed.sum();
    cpuMsPerImage = results == 0 ? Double.NaN : worker / 1e6 / results;
    // what is still in flight comes back before the pipeline is stopped, so that nothing is cut off
    if (inFlight.tryAcquire(mostInFlight, 2, TimeUnit.MINUTES)) {
      inFlight.release(mostInFlight);
    }
    return results / elapsed;
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
