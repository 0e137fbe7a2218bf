package dev.conveyor.assembly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(120)
class PipelinesTest {
  private static final String MODEL =
      Path.of("..", "models", "fashion-mnist.onnx").toAbsolutePath().normalize().toString();

  @Test
  void picocliIsNotOnThisModulesClassPath() {
    assertThatThrownBy(() -> Class.forName("picocli.CommandLine"))
        .isInstanceOf(ClassNotFoundException.class);
  }

  @Test
  void aPipelineOpenedFromAMapClassifiesABatchAsTheWorkersOfClassifyDo() throws Exception {
    Map<String, String> settings =
        Map.of(
            "model", MODEL, "batch", "4", "top", "3", "fetch-allow", "file:" + TestImages.folder());
    List<ImageRequest> requests = new ArrayList<>();
    try (Stream<Path> files = Files.list(TestImages.folder())) {
      files.sorted().forEach(f -> requests.add(ImageRequest.ofKey(f.toString())));
    }
    try (Pipeline pipeline = Pipelines.open(settings)) {
      List<ClassifyResult> direct = pipeline.classify(requests);
      List<ClassifyResult> viaWorkers = new ArrayList<>();
      try (LocalWorkers workers =
          LocalWorkers.embedded(pipeline, Pipelines.read(settings, "the test"), 1)) {
        List<CompletableFuture<ClassifyResult>> futures = new ArrayList<>();
        for (ImageRequest r : requests) {
          futures.add(workers.embedded().submit(ImageRequest.ofKey(r.source())));
        }
        for (CompletableFuture<ClassifyResult> f : futures) {
          viaWorkers.add(f.get(60, TimeUnit.SECONDS));
        }
      }
      assertThat(direct).hasSize(requests.size());
      assertThat(direct).filteredOn(ClassifyResult::isOk).hasSizeGreaterThan(10);
      assertThat(direct)
          .filteredOn(r -> !r.isOk())
          .extracting(r -> r.error().code())
          .contains(ErrorCode.CORRUPT, ErrorCode.EMPTY, ErrorCode.UNSUPPORTED_FORMAT);
      for (int i = 0; i < requests.size(); i++) {
        ClassifyResult a = direct.get(i);
        ClassifyResult b = viaWorkers.get(i);
        assertThat(a.source()).isEqualTo(requests.get(i).source()).isEqualTo(b.source());
        assertThat(a.status()).as(a.source()).isEqualTo(b.status());
        if (a.isOk()) {
          assertThat(a.model()).isEqualTo("fashion-mnist");
          assertThat(a.predictions()).hasSize(3);
          for (int k = 0; k < 3; k++) {
            assertThat(a.predictions().get(k).label()).isEqualTo(b.predictions().get(k).label());
            assertThat(a.predictions().get(k).score())
                .isCloseTo(b.predictions().get(k).score(), within(1e-5f));
          }
        } else {
          assertThat(a.error().code()).isEqualTo(b.error().code());
        }
      }
    }
  }

  @Test
  void aStreamOfRequestsPreparedAheadOnOtherThreadsGivesTheSameResultsInOrder() throws Exception {
    Map<String, String> settings =
        Map.of(
            "model", MODEL, "batch", "5", "top", "3", "fetch-allow", "file:" + TestImages.folder());
    List<ImageRequest> requests = new ArrayList<>();
    try (Stream<Path> files = Files.list(TestImages.folder())) {
      files.sorted().forEach(f -> requests.add(ImageRequest.ofKey(f.toString())));
    }
    assertThat(requests.size() % 5).as("a last, partial batch").isNotZero();
    ExecutorService preparers = Executors.newFixedThreadPool(3);
    Set<String> readOn = ConcurrentHashMap.newKeySet();
    Iterator<ImageRequest> source =
        new Iterator<>() {
          private final Iterator<ImageRequest> all = requests.iterator();

          @Override
          public boolean hasNext() {
            return all.hasNext();
          }

          @Override
          public ImageRequest next() {
            readOn.add(Thread.currentThread().getName());
            return all.next();
          }
        };
    try (Pipeline pipeline = Pipelines.open(settings)) {
      List<ClassifyResult> direct = pipeline.classify(requests);
      List<ClassifyResult> ahead = new ArrayList<>();
      pipeline.classify(source, preparers).forEachRemaining(ahead::add);
      assertThat(readOn).containsExactly(Thread.currentThread().getName());
      assertThat(ahead).hasSameSizeAs(direct);
      for (int i = 0; i < direct.size(); i++) {
        ClassifyResult a = direct.get(i);
        ClassifyResult b = ahead.get(i);
        assertThat(b.source()).isEqualTo(a.source());
        assertThat(b.status()).as(a.source()).isEqualTo(a.status());
        if (a.isOk()) {
          assertThat(b.predictions().get(0).label()).isEqualTo(a.predictions().get(0).label());
          assertThat(b.predictions().get(0).score())
              .isCloseTo(a.predictions().get(0).score(), within(1e-5f));
        } else {
          assertThat(b.error().code()).isEqualTo(a.error().code());
        }
      }
      assertThat(pipeline.classify(Collections.emptyIterator(), preparers)).isExhausted();
    } finally {
      preparers.shutdownNow();
    }
  }

  @Test
  void anUnknownSettingIsNamedWithTheClosestKnownOne() {
    assertThatThrownBy(() -> Pipelines.open(Map.of("model", MODEL, "bacth", "4")))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("unknown pipeline settings [bacth]")
        .hasMessageContaining("did you mean 'batch'")
        .satisfies(
            e -> assertThat(((ConveyorException) e).code()).isEqualTo(ErrorCode.INVALID_SETTING));
  }

  @Test
  void anInvalidValueIsNamedWithWhatIsAllowed() {
    assertThatThrownBy(() -> Pipelines.open(Map.of("model", MODEL, "batch", "0")))
        .hasMessageContaining("batch must be a positive whole number, not '0'");
    assertThatThrownBy(() -> Pipelines.open(Map.of("model", MODEL, "color", "purple")))
        .hasMessageContaining("color must be rgb, bgr or gray");
    assertThatThrownBy(() -> Pipelines.open(Map.of("model", MODEL, "resize", "big")))
        .hasMessageContaining("resize must be");
    assertThatThrownBy(() -> Pipelines.open(Map.of("model", "no/such/model.onnx")))
        .hasMessageContaining("no model file at no/such/model.onnx");
  }
}
