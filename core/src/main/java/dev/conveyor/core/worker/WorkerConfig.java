package dev.conveyor.core.worker;

import java.time.Duration;

/**
 * How a {@link Worker} batches, as {@link WorkerSettings#config} reads it from the settings.
 *
 * @param batchSize the most images the model sees at once
 * @param linger how long a batch may wait for more images after its first (Triton's {@code
 *     max_queue_delay}, Kafka's {@code linger.ms}), and only while earlier batches still hold the
 *     model: a request to an idle worker starts at once
 * @param preprocessThreads threads decoding and preprocessing, in parallel with inference
 * @param pipelineDepth batches in flight at once: one in the model, the rest being preprocessed
 */
public record WorkerConfig(
    int batchSize, Duration linger, int preprocessThreads, int pipelineDepth) {

  public WorkerConfig {
    if (batchSize < 1 || preprocessThreads < 1 || pipelineDepth < 2) {
      throw new IllegalArgumentException(
          "batchSize and preprocessThreads must be at least 1, pipelineDepth at least 2");
    }
    if (linger.isNegative()) {
      throw new IllegalArgumentException("linger must not be negative");
    }
  }

  public WorkerConfig withBatchSize(int n) {
    return new WorkerConfig(n, linger, preprocessThreads, pipelineDepth);
  }

  public WorkerConfig withLinger(Duration d) {
    return new WorkerConfig(batchSize, d, preprocessThreads, pipelineDepth);
  }

  public WorkerConfig withPreprocessThreads(int n) {
    return new WorkerConfig(batchSize, linger, n, pipelineDepth);
  }
}
