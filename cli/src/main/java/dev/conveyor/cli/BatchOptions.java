package dev.conveyor.cli;

import dev.conveyor.core.worker.WorkerConfig;
import java.time.Duration;
import picocli.CommandLine.Option;

/** How a worker batches: shared by every command that runs one. */
public final class BatchOptions {
  @Option(
      names = "--batch",
      paramLabel = "N",
      defaultValue = "8",
      description = "Most images per model call. Default: ${DEFAULT-VALUE}.")
  int batch;

  @Option(
      names = "--linger-ms",
      paramLabel = "MS",
      defaultValue = "5",
      description =
          "How long a batch waits for more images after its first while the model is busy"
              + " (an idle one starts at once). Default: ${DEFAULT-VALUE}.")
  int lingerMs;

  @Option(
      names = "--preprocess-threads",
      paramLabel = "N",
      description =
          "Threads decoding and preprocessing while the model runs. Default: one per core.")
  int preprocessThreads = Runtime.getRuntime().availableProcessors();

  @Option(
      names = "--queue",
      paramLabel = "N",
      defaultValue = "1024",
      description =
          "Most requests waiting in memory; beyond it producers wait or are told busy. Default: ${DEFAULT-VALUE}.")
  int queue;

  WorkerConfig workerConfig(ModelOptions model) {
    return WorkerConfig.defaults()
        .withBatchSize(batch)
        .withLinger(Duration.ofMillis(lingerMs))
        .withPreprocessThreads(preprocessThreads)
        .withTopK(model.top)
        .withScoreMode(model.scores);
  }
}
