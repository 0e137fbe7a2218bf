package dev.conveyor.core.testing;

import dev.conveyor.core.decode.ImageDecoder;
import dev.conveyor.core.decode.ImageLimits;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.fetch.Fetcher;
import dev.conveyor.core.fetch.Fetchers;
import dev.conveyor.core.model.Classifier;
import dev.conveyor.core.model.Labels;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.preprocess.Preprocessing;
import dev.conveyor.core.preprocess.Preprocessor;
import dev.conveyor.core.preprocess.Preset;
import dev.conveyor.core.preprocess.Resize;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.topk.ScoreMode;
import dev.conveyor.core.topk.TopK;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Transport;
import dev.conveyor.core.worker.HostName;
import dev.conveyor.core.worker.Worker;
import dev.conveyor.core.worker.WorkerConfig;
import dev.conveyor.core.worker.WorkerSettings;
import java.time.Duration;
import java.util.Map;

/** Workers for tests: a {@link MeanColourClassifier} on 32x32 images, behind any transport. */
public final class TestWorkers {
  private TestWorkers() {}

  /** A started worker; top-2 softmax predictions, linger 20 ms. */
  public static Worker colour(
      Transport transport, ResultSink sink, MeanColourClassifier model, int batch) {
    return colour(
        transport,
        sink,
        model,
        WorkerSettings.config(Settings.none())
            .withBatchSize(batch)
            .withLinger(Duration.ofMillis(20)));
  }

  /** A started worker with the given batching, classifying by mean colour. */
  public static Worker colour(
      Transport transport, ResultSink sink, MeanColourClassifier model, WorkerConfig config) {
    return new Worker(config, pipeline(model, config.batchSize()), transport, sink).start();
  }

  /** The pipeline of {@link #colour}: 32x32 images, top-2 softmax predictions. */
  public static Pipeline pipeline(MeanColourClassifier model, int batch) {
    return pipeline(model, batch, anyFile());
  }

  /** A fetcher allowed every local file, as the operator's own command line is. */
  public static Fetcher anyFile() {
    return new Fetchers(
        Settings.read(Map.of("fetch-allow", "file:/"), "test", FetchSettings.SETTINGS));
  }

  /** The pipeline of {@link #colour}, fetching requests by key with {@code fetcher}. */
  public static Pipeline pipeline(Classifier model, int batch, Fetcher fetcher) {
    return pipeline(model, batch, fetcher, 2);
  }

  /** The pipeline of {@link #colour} with {@code top} predictions per result. */
  public static Pipeline pipeline(Classifier model, int batch, Fetcher fetcher, int top) {
    Preprocessing spec =
        Preset.IMAGENET.builder().optResize(Resize.exact(32, 32)).optCrop(0, 0).build();
    return new Pipeline(
        model,
        new Preprocessor(spec, new ImageDecoder(ImageLimits.DEFAULT)),
        new TopK(top, ScoreMode.SOFTMAX, Labels.of(model.spec().labels())),
        fetcher,
        HostName.get(),
        batch);
  }
}
