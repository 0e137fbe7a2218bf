package dev.conveyor.core.testing;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.worker.WorkerConfig;
import dev.conveyor.core.worker.WorkerSettings;
import java.time.Duration;

/**
 * The adaptive-batching check every transport passes: with a long linger and a slow model, a lone
 * request runs alone at once, and five sent while it runs gather into one batch that starts as soon
 * as the model is free.
 */
public final class LoneRequests {
  private LoneRequests() {}

  /** Batches of up to 8, lingering up to 5 s: far longer than the check allows. */
  public static final WorkerConfig CONFIG =
      WorkerSettings.config(Settings.none()).withBatchSize(8).withLinger(Duration.ofSeconds(5));

  /** A model that takes 300 ms a call. */
  public static MeanColourClassifier slowModel() {
    return new MeanColourClassifier(32, 32).slow(300);
  }

  /** Waits until the model has started its first batch: the lone image is in the model now. */
  public static void awaitTheFirstBatch(MeanColourClassifier model) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (model.batchSizes().isEmpty()) {
      assertThat(System.nanoTime()).as("the lone image reached the model").isLessThan(deadline);
      Thread.sleep(5);
    }
  }

  /** Checks the batches {@code model} saw, all six results having come by now. */
  public static void assertTheLoneOneRanAloneAtOnce(MeanColourClassifier model, long startNanos) {
    assertThat(Duration.ofNanos(System.nanoTime() - startNanos))
        .as("nobody waited out the 5 s linger: the model was idle, then became free")
        .isLessThan(Duration.ofSeconds(3));
    assertThat(model.batchSizes())
        .as("the lone image went alone; the rest gathered while the model was busy")
        .containsExactly(1, 5);
  }
}
