package dev.conveyor.bench;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.pipeline.Pipeline;
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
 * worker can feed the model at most; on one thread, the per-image CPU cost of preprocessing.
 */
final class Preprocess {
  private Preprocess() {}

  /**
   * Images per second decoded and preprocessed by {@code threads} threads for {@code seconds}, and
   * the process's CPU time per image.
   */
  static Rate measure(Pipeline engine, Corpus corpus, int threads, double seconds, Phase phase)
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
        tasks.add(pool.submit(() -> preprocessUntil(stop, engine, corpus, offset, done)));
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

  private static void preprocessUntil(
      AtomicBoolean stop, Pipeline engine, Corpus corpus, int first, LongAdder done) {
    ByteBuffer slot =
        ByteBuffer.allocateDirect(engine.preprocessor().tensorBytes())
            .order(ByteOrder.nativeOrder());
    for (int i = first; !stop.get(); i++) {
      try {
        engine.preprocessor().preprocess(corpus.image(i), slot, 0);
      } catch (ConveyorException e) {
        // a broken image is work done too: it was read and refused
      }
      done.increment();
    }
  }
}
