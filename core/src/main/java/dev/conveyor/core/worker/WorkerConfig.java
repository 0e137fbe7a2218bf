package dev.conveyor.core.worker;

import dev.conveyor.core.classify.ScoreMode;
import java.time.Duration;

/**
 * How a {@link Worker} batches and post-processes.
 *
 * @param batchSize the most images the model sees at once
 * @param linger how long a batch may wait for more images after its first (Triton's {@code
 *     max_queue_delay}, Kafka's {@code linger.ms}); on transports that can stop early it waits only
 *     while earlier batches still hold the model, so a request to an idle worker starts at once
 * @param preprocessThreads threads decoding and preprocessing, in parallel with inference
 * @param pipelineDepth batches in flight at once: one in the model, the rest being preprocessed
 * @param topK predictions per result
 * @param scoreMode how outputs become scores
 * @param host the host name results report
 */
public record WorkerConfig(
    int batchSize,
    Duration linger,
    int preprocessThreads,
    int pipelineDepth,
    int topK,
    ScoreMode scoreMode,
    String host) {

  public WorkerConfig {
    if (batchSize < 1 || preprocessThreads < 1 || pipelineDepth < 2 || topK < 1) {
      throw new IllegalArgumentException(
          "batchSize, preprocessThreads and topK must be at least 1, pipelineDepth at least 2");
    }
    if (linger.isNegative()) {
      throw new IllegalArgumentException("linger must not be negative");
    }
  }

  /** Batch 8, linger 5 ms, one preprocessing thread per core, depth 3, top 5, AUTO scores. */
  public static WorkerConfig defaults() {
    return new WorkerConfig(
        8,
        Duration.ofMillis(5),
        Runtime.getRuntime().availableProcessors(),
        3,
        5,
        ScoreMode.AUTO,
        HostName.get());
  }

  public WorkerConfig withBatchSize(int n) {
    return new WorkerConfig(n, linger, preprocessThreads, pipelineDepth, topK, scoreMode, host);
  }

  public WorkerConfig withLinger(Duration d) {
    return new WorkerConfig(batchSize, d, preprocessThreads, pipelineDepth, topK, scoreMode, host);
  }

  public WorkerConfig withPreprocessThreads(int n) {
    return new WorkerConfig(batchSize, linger, n, pipelineDepth, topK, scoreMode, host);
  }

  public WorkerConfig withTopK(int k) {
    return new WorkerConfig(
        batchSize, linger, preprocessThreads, pipelineDepth, k, scoreMode, host);
  }

  public WorkerConfig withScoreMode(ScoreMode m) {
    return new WorkerConfig(batchSize, linger, preprocessThreads, pipelineDepth, topK, m, host);
  }
}
