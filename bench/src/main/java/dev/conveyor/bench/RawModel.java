package dev.conveyor.bench;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.pipeline.Pipeline;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * The limit: the model alone, on one batch of real preprocessed images already in memory, with the
 * pipeline's threads and batch size. Every other stage is reported as a fraction of it.
 */
final class RawModel {
  private RawModel() {}

  /**
   * Images per second through the model alone for about {@code seconds}, and the process's CPU time
   * per image.
   *
   * @param phase the progress to show, or {@code null} for none (a warm-up)
   */
  static Rate measure(Pipeline engine, Corpus corpus, double seconds, Phase phase) {
    int n = engine.batchSize();
    FloatBuffer input = batch(engine, corpus, n);
    FloatBuffer output = direct(n * engine.model().classes());
    long end = System.nanoTime() + (long) (seconds * 1e9);
    long cpu = CpuTime.process();
    long start = System.nanoTime();
    long images = 0;
    do {
      engine.classifier().run(input, n, output);
      images += n;
      if (phase != null) {
        phase.tick();
      }
    } while (System.nanoTime() < end);
    double elapsed = (System.nanoTime() - start) / 1e9;
    double cpuMs = (CpuTime.process() - cpu) / 1e6;
    if (phase != null) {
      phase.done();
    }
    return new Rate(images / elapsed, cpuMs / images);
  }

  /** A full batch of the corpus's images, preprocessed; unreadable ones are skipped. */
  private static FloatBuffer batch(Pipeline engine, Corpus corpus, int n) {
    ByteBuffer bytes =
        ByteBuffer.allocateDirect(n * engine.preprocessor().tensorBytes())
            .order(ByteOrder.nativeOrder());
    int filled = 0;
    for (int i = 0; filled < n && i < corpus.size() * 2; i++) {
      try {
        engine.preprocessor().preprocess(corpus.image(i), bytes, filled);
        filled++;
      } catch (ConveyorException e) {
        // an unreadable file in the corpus: the slot is filled by the next one
      }
    }
    if (filled < n) {
      throw new ConveyorException(ErrorCode.CORRUPT, "too few decodable images to fill a batch");
    }
    return bytes.asFloatBuffer();
  }

  private static FloatBuffer direct(int floats) {
    return ByteBuffer.allocateDirect(floats * Float.BYTES)
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }
}
