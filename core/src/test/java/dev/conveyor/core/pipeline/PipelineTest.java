package dev.conveyor.core.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.fetch.FetchAllow;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class PipelineTest {

  @Test
  void aBatchsImagesByKeyAreFetchedTogetherNotOneAfterAnother() {
    int n = 8;
    CountDownLatch allStarted = new CountDownLatch(n);
    byte[] blue = TestImages.bytes("palette-blue.png");
    // each fetch waits until every fetch of the batch has started: fetching one after another on
    // the preparing thread, the first one would give up
    try (Pipeline pipeline =
        TestWorkers.pipeline(
            new MeanColourClassifier(32, 32),
            n,
            (key, max) -> {
              allStarted.countDown();
              try {
                if (!allStarted.await(5, TimeUnit.SECONDS)) {
                  throw new ConveyorException(ErrorCode.FETCH_FAILED, "fetched one at a time");
                }
              } catch (InterruptedException e) {
                throw new IllegalStateException(e);
              }
              if (key.equals("broken")) {
                throw new IllegalStateException("the store's client failed");
              }
              return blue;
            })) {
      List<ImageRequest> requests = new ArrayList<>();
      for (int i = 0; i < n - 1; i++) {
        requests.add(ImageRequest.ofKey("s3://images/" + i + ".png"));
      }
      requests.add(ImageRequest.ofKey("broken"));
      List<ClassifyResult> results = pipeline.classify(requests);
      assertThat(results).hasSize(n);
      for (int i = 0; i < n - 1; i++) {
        assertThat(results.get(i).isOk()).as(String.valueOf(results.get(i).error())).isTrue();
        assertThat(results.get(i).top().label()).isEqualTo("blue");
      }
      // a fetch that fails unexpectedly says nothing of what it named, nor of why
      assertThat(results.get(n - 1).error().code()).isEqualTo(ErrorCode.NOT_FOUND);
      assertThat(results.get(n - 1).error().message()).isEqualTo(FetchAllow.DENIED_MESSAGE);
    }
  }
}
