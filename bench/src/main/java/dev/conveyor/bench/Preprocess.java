package dev.conveyor.bench;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.preprocess.Preprocessor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;

/**
 * Decode, resize, crop and normalize without the model: on the preprocessing threads, what the
 * worker can feed the model at most; on one thread, the per-image CPU cost of preprocessing; and
 * decoding alone on one thread, the part of that cost the decoder sets (what {@code tjbench}
 * measures for JPEG).
 */
final class Preprocess {
  private Preprocess() {}

  /** One image's work, into a batch buffer of one slot. */
  private interface Work {
    void run(Preprocessor preprocessor, byte[] image, ByteBuffer slot);
  }

  /**
   * Images per second decoded and preprocessed by {@code threads} threads for {@code seconds}, and
   * the process's CPU time per image.
   */
  static Rate measure(Pipeline engine, Corpus corpus, int threads, double seconds, Phase phase)
      throws Exception {
    return measure(
        engine, corpus, threads, seconds, phase, (p, image, slot) -> p.preprocess(image, slot, 0));
  }

  /** Images per second decoded, and nothing more, by one thread for {@code seconds}. */
  static Rate decodeOnly(Pipeline engine, Corpus corpus, double seconds, Phase phase)
      throws Exception {
    return measure(
        engine, corpus, 1, seconds, phase, (p, image, slot) -> p.decoded(image).release());
  }

  private static Rate measure(
      Pipeline engine, Corpus corpus, int threads, double seconds, Phase phase, Work work)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    LongAdder done = new LongAdder();
    AtomicBoolean stop = new AtomicBoolean();
    List<Future<?>> tasks = new ArrayList<>();
    long cpu = CpuTime.process();
    long start = System.nanoTime();
    try {
      for (int t = 0; t < threads; t++) {
        int offset = t;
        tasks.add(pool.submit(() -> workUntil(stop, engine, corpus, offset, done, work)));
      }
      long end = start + (long) (seconds * 1e9);
      while (System.nanoTime() < end) {
        Thread.sleep(50);
        phase.tick();
      }
      stop.set(true);
      for (Future<?> f : tasks) {
        f.get();
      }
    } finally {
      stop.set(true);
      pool.shutdown();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    double cpuMs = (CpuTime.process() - cpu) / 1e6;
    phase.done();
    return new Rate(done.sum() / elapsed, cpuMs / done.sum());
  }

  private static void workUntil(
      AtomicBoolean stop, Pipeline engine, Corpus corpus, int first, LongAdder done, Work work) {
    ByteBuffer slot =
        ByteBuffer.allocateDirect(engine.preprocessor().tensorBytes())
            .order(ByteOrder.nativeOrder());
    for (int i = first; !stop.get(); i++) {
      try {
        work.run(engine.preprocessor(), corpus.image(i), slot);
      } catch (ConveyorException e) {
        // a broken image is work done too: it was read and refused
      }
      done.increment();
    }
  }
}
