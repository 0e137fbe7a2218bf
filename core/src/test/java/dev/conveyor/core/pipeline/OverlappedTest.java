package dev.conveyor.core.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.model.Classifier;
import dev.conveyor.core.model.ModelSpec;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A stream of requests classified as an engine's task hands them over: {@code classify(it, …)}. */
@Timeout(60)
class OverlappedTest {
  private final ExecutorService preparers = Executors.newFixedThreadPool(2);

  @AfterEach
  void stop() {
    preparers.shutdownNow();
  }

  private static List<ImageRequest> requests(int n) {
    List<String> names =
        List.of("palette-blue.png", "yellow.bmp", "truncated.jpg", "tiny-gray.png");
    List<ImageRequest> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ImageRequest r =
          ImageRequest.ofBytes("r" + i, TestImages.bytes(names.get(i % names.size())), null);
      out.add(r);
    }
    return out;
  }

  private static List<ClassifyResult> all(Iterator<ClassifyResult> results) {
    List<ClassifyResult> out = new ArrayList<>();
    results.forEachRemaining(out::add);
    return out;
  }

  @Test
  void everyRequestGetsItsResultInOrderAcrossBatchesAndAShortLastOne() {
    List<ImageRequest> sent = requests(23);
    try (Pipeline pipeline = TestWorkers.pipeline(new MeanColourClassifier(32, 32), 4)) {
      List<ClassifyResult> results = all(pipeline.classify(sent.iterator(), preparers));
      assertThat(results)
          .extracting(ClassifyResult::id)
          .containsExactlyElementsOf(sent.stream().map(ImageRequest::id).toList());
      for (int i = 0; i < results.size(); i++) {
        ClassifyResult r = results.get(i);
        switch (i % 4) {
          case 0 -> assertThat(r.predictions().get(0).label()).isEqualTo("blue");
          case 2 -> assertThat(r.error().code().name()).isEqualTo("CORRUPT");
          default -> assertThat(r.isOk()).isTrue();
        }
      }
    }
  }

  @Test
  void aModelFailureIsAnErrorForItsBatchOnlyAndTheStreamGoesOn() {
    MeanColourClassifier model = new MeanColourClassifier(32, 32, call -> call == 2);
    List<ImageRequest> sent = requests(12);
    try (Pipeline pipeline = TestWorkers.pipeline(model, 4)) {
      List<ClassifyResult> results = all(pipeline.classify(sent.iterator(), preparers));
      assertThat(results).hasSize(12);
      assertThat(results.subList(4, 8))
          .allSatisfy(r -> assertThat(r.error().code().name()).isEqualTo("INFERENCE_FAILED"));
      assertThat(results.get(8).isOk()).isTrue();
      assertThat(model.batchSizes())
          .as("the decoded images of each batch")
          .containsExactly(3, 3, 3);
    }
  }

  /** Holds its first call until the caller has read the requests of the third batch. */
  private static final class WaitsForTheReader implements Classifier {
    private final MeanColourClassifier model = new MeanColourClassifier(32, 32);
    private final CountDownLatch thirdBatchRead = new CountDownLatch(1);
    private final List<Boolean> met = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public ModelSpec spec() {
      return model.spec();
    }

    @Override
    public void run(FloatBuffer input, int count, FloatBuffer output) {
      try {
        met.add(thirdBatchRead.await(20, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      model.run(input, count, output);
    }

    @Override
    public void close() {}
  }

  @Test
  void theCallerReadsTheNextRequestsWhileTheModelRunsABatch() {
    WaitsForTheReader model = new WaitsForTheReader();
    List<ImageRequest> sent = requests(16);
    AtomicInteger read = new AtomicInteger();
    Iterator<ImageRequest> reading =
        new Iterator<>() {
          private final Iterator<ImageRequest> it = sent.iterator();

          @Override
          public boolean hasNext() {
            return it.hasNext();
          }

          @Override
          public ImageRequest next() {
            if (read.incrementAndGet() == 9) {
              model.thirdBatchRead.countDown();
            }
            return it.next();
          }
        };
    try (Pipeline pipeline = TestWorkers.pipeline(model, 4, TestWorkers.anyFile())) {
      List<ClassifyResult> results = all(pipeline.classify(reading, preparers));
      assertThat(results).hasSize(16);
      assertThat(model.met.get(0))
          .as("the first batch ran while the third was read, not on the reading thread")
          .isTrue();
    }
  }
}
