package dev.conveyor.assembly;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.model.ModelRepository;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.onnx.testing.TestModels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class ModelSetTest {
  @TempDir Path repo;
  private final List<Pipeline> opened = new ArrayList<>();

  private ModelSet models() {
    return new ModelSet(
        ModelRepository.open(repo),
        null,
        Map.of("batch", "2"),
        s -> {
          Pipeline p = Pipelines.open(s);
          opened.add(p);
          return p;
        });
  }

  private void publish(String model, int version) {
    TestModels.publishColour(repo, model, version);
  }

  private static String label(ModelLease lease, String image) {
    ClassifyResult r =
        lease
            .pipeline()
            .classify(List.of(ImageRequest.ofBytes(image, TestImages.bytes(image), null)))
            .get(0);
    assertThat(r.error()).as(image).isNull();
    return r.predictions().get(0).label();
  }

  @Test
  void aModelIsOpenedOnFirstUseAtItsNewestVersionWithItsConfig() throws IOException {
    publish("colours", 1);
    publish("colours", 2);
    Files.writeString(repo.resolve("colours/labels.txt"), "rouge\nvert\nbleu\n");
    Files.writeString(repo.resolve("colours/config.properties"), "labels=labels.txt\ntop=1\n");
    publish("other", 1);

    try (ModelSet models = models()) {
      assertThat(opened).as("nothing is opened before it is used").isEmpty();
      try (ModelLease lease = models.lease("colours")) {
        assertThat(lease.name()).isEqualTo("colours");
        assertThat(lease.version()).isEqualTo(2);
        assertThat(label(lease, "cmyk-red.jpg")).as("the model's own labels").isEqualTo("rouge");
        assertThat(label(lease, "palette-blue.png")).isEqualTo("bleu");
      }
      try (ModelLease again = models.lease("colours")) {
        assertThat(opened).as("opened once, then lent again").hasSize(1);
      }
      assertThat(models.states())
          .singleElement()
          .satisfies(s -> assertThat(s.serving()).isEqualTo(2))
          .satisfies(s -> assertThat(s.failure()).isNull());
    }
  }

  @Test
  void aNewVersionTakesNewLeasesWhileTheOldFinishesWhatItHas() throws IOException {
    publish("colours", 1);
    try (ModelSet models = models()) {
      ModelLease old = models.lease("colours");
      assertThat(old.version()).isEqualTo(1);

      publish("colours", 2);
      List<ModelState> after = models.refresh();

      assertThat(after)
          .singleElement()
          .satisfies(s -> assertThat(s.serving()).isEqualTo(2))
          .satisfies(s -> assertThat(s.draining()).containsExactly(1L));
      try (ModelLease fresh = models.lease("colours")) {
        assertThat(fresh.version()).isEqualTo(2);
        assertThat(label(fresh, "cmyk-red.jpg")).isEqualTo("red");
        List<ClassifyResult> results =
            fresh.named(
                fresh
                    .pipeline()
                    .classify(
                        List.of(
                            ImageRequest.ofBytes("r", TestImages.bytes("cmyk-red.jpg"), null),
                            ImageRequest.ofBytes("c", TestImages.bytes("corrupt.jpg"), null))));
        ClassifyResult named = results.get(0);
        assertThat(results.get(1).error().code()).isEqualTo(ErrorCode.CORRUPT);
        assertThat(results.get(1).version()).as("an error names no version").isNull();
        assertThat(named.model()).as("the repository's name, not the file's").isEqualTo("colours");
        assertThat(named.version()).isEqualTo(2L);
        assertThat(dev.conveyor.core.Json.write(named))
            .contains("\"model\":\"colours\",\"version\":2");
      }
      // the batch that held version 1 when the switch came still runs on it
      assertThat(label(old, "palette-blue.png")).isEqualTo("blue");
      old.close();
      old.close();
      assertThat(models.states().get(0).draining())
          .as("version 1 is closed once its last lease is given back")
          .isEmpty();
      assertThat(models.refresh().get(0).serving()).as("nothing newer: no change").isEqualTo(2);
      assertThat(opened).hasSize(2);

      // going back: the newer version removed, the older one serves again
      Files.delete(repo.resolve("colours/2/model.onnx"));
      Files.delete(repo.resolve("colours/2"));
      assertThat(models.refresh().get(0).serving()).isEqualTo(1);
    }
  }

  @Test
  void aVersionThatCannotBeOpenedLeavesTheServingOneInPlaceAndIsReported() throws IOException {
    publish("colours", 1);
    try (ModelSet models = models()) {
      models.lease("colours").close();
      Path corrupt = Files.createDirectories(repo.resolve("colours/2")).resolve("model.onnx");
      Files.write(corrupt, new byte[] {0x08, 0x07, 0x12, 0x03, 'b', 'a', 'd'});

      ModelState state = models.refresh().get(0);

      assertThat(state.serving()).isEqualTo(1);
      assertThat(state.failedVersion()).isEqualTo(2);
      assertThat(state.failure()).isNotBlank();
      try (ModelLease lease = models.lease("colours")) {
        assertThat(lease.version()).isEqualTo(1);
        assertThat(label(lease, "cmyk-red.jpg")).isEqualTo("red");
      }
      assertThat(models.refresh().get(0).failedVersion())
          .as("a version that failed is not tried again on every refresh")
          .isEqualTo(2);
      assertThat(opened).hasSize(1);

      publish("colours", 3);
      ModelState fixed = models.refresh().get(0);
      assertThat(fixed.serving()).isEqualTo(3);
      assertThat(fixed.failure()).isNull();
    }
  }

  @Test
  void aConfigMayNotSetWhatIsNotTheModelsOwn() throws IOException {
    publish("colours", 1);
    Files.writeString(repo.resolve("colours/config.properties"), "fetch-allow=file:/\n");
    try (ModelSet models = models()) {
      assertThatThrownBy(() -> models.lease("colours"))
          .isInstanceOfSatisfying(
              ConveyorException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
          .hasMessageContaining("sets 'fetch-allow', which a model may not set");
      assertThat(opened).isEmpty();
    }
  }

  @Test
  void anUnknownOrHostileNameIsNotFoundWithoutRepeatingIt() throws IOException {
    publish("colours", 1);
    try (ModelSet models = models()) {
      for (String name :
          new String[] {
            "resnet", "../colours", "colours/1", "", "a\nb", "x".repeat(1 << 20), null
          }) {
        assertThatThrownBy(() -> models.lease(name))
            .as(name)
            .isInstanceOfSatisfying(
                ConveyorException.class,
                e -> assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_MODEL))
            .hasMessageNotContaining(
                String.valueOf(name).isEmpty() ? "\u0000" : String.valueOf(name))
            .satisfies(e -> assertThat(e.getMessage()).hasSizeLessThan(200));
      }
      assertThat(models.states()).as("names asked for keep nothing").isEmpty();
    }
  }

  @Test
  void fromSettingsTheDefaultModelIsOpenedAtOnceAndTheRepositoryIsWatched() throws Exception {
    publish("colours", 1);
    assertThat(RepositorySettings.open(Pipelines.read(Map.of(), "test")))
        .as("no --models")
        .isEmpty();
    assertThatThrownBy(
            () ->
                RepositorySettings.open(
                    Settings.read(
                        Map.of("models", repo.toString(), "model", "other.onnx"),
                        "test",
                        PipelineSettings.MODEL_SETTINGS,
                        PipelineSettings.REPOSITORY_SETTINGS)))
        .hasMessageContaining("not both");
    assertThatThrownBy(
            () ->
                RepositorySettings.open(
                    Settings.read(
                        Map.of("models", repo.toString(), "default-model", "resnet"),
                        "test",
                        PipelineSettings.REPOSITORY_SETTINGS)))
        .isInstanceOfSatisfying(
            ConveyorException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
        .hasMessageContaining("--default-model resnet is not in the repository");

    try (ModelSet models =
        RepositorySettings.open(
                Settings.read(
                    Map.of(
                        "models", repo.toString(), "default-model", "colours", "models-poll", "1"),
                    "test",
                    PipelineSettings.MODEL_SETTINGS,
                    PipelineSettings.REPOSITORY_SETTINGS))
            .orElseThrow()) {
      assertThat(models.states()).as("the default model is open from the start").hasSize(1);
      try (ModelLease lease = models.lease(null)) {
        assertThat(lease.name()).isEqualTo("colours");
        assertThat(lease.version()).isEqualTo(1);
      }
      publish("colours", 2);
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (models.states().get(0).serving() != 2 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertThat(models.states().get(0).serving())
          .as("the watcher rolled the model on to the version published")
          .isEqualTo(2);
    }
  }

  @Test
  void aMemoryBudgetClosesTheLeastRecentlyUsedModelWhichOpensAgainWhenAskedFor()
      throws IOException {
    publish("a", 1);
    publish("b", 1);
    publish("c", 1);
    long size = Files.size(repo.resolve("a/1/model.onnx"));
    try (ModelSet models = models().budget(2 * size + size / 2)) {
      models.lease("a").close();
      models.lease("b").close();
      models.lease("a").close(); // a is now the more recently used
      assertThat(models.states()).extracting(ModelState::name).containsExactly("a", "b");

      models.lease("c").close();

      assertThat(models.states())
          .as("b, the least recently used, made room for c")
          .extracting(ModelState::name)
          .containsExactly("a", "c");
      try (ModelLease again = models.lease("b")) {
        assertThat(again.version()).isEqualTo(1);
      }
      assertThat(opened).as("b opened again, in place of a").hasSize(4);
      assertThat(models.states()).extracting(ModelState::name).containsExactly("b", "c");
    }
  }

  @Test
  void aModelDroppedWhileAnotherCallerOpensItLeavesNothingOpen() throws Exception {
    publish("colours", 1);
    List<MeanColourClassifier> made = new java.util.concurrent.CopyOnWriteArrayList<>();
    ModelSet models =
        new ModelSet(
            ModelRepository.open(repo),
            null,
            Map.of("batch", "2"),
            s -> {
              MeanColourClassifier m = new MeanColourClassifier(32, 32);
              made.add(m);
              return TestWorkers.pipeline(m, 2);
            });
    // callers open the model while it is unloaded and loaded again, over and over: a version
    // opened into a slot already dropped must be closed, not left open outside the set
    java.util.concurrent.atomic.AtomicBoolean stop =
        new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger served =
        new java.util.concurrent.atomic.AtomicInteger();
    List<Thread> callers = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      Thread caller =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try (ModelLease lease = models.lease("colours")) {
                    served.incrementAndGet();
                  } catch (ConveyorException e) {
                    assertThat(e.code()).isEqualTo(ErrorCode.UNKNOWN_MODEL);
                  }
                }
              });
      caller.start();
      callers.add(caller);
    }
    long until = System.nanoTime() + 1_500_000_000L;
    int turns = 0;
    while (System.nanoTime() < until || turns < 200) {
      models.unload("colours");
      models.load("colours");
      turns++;
    }
    stop.set(true);
    for (Thread t : callers) {
      t.join();
    }
    assertThat(served).as("callers were served between the turns").hasPositiveValue();
    assertThat(made.size()).as("opened again and again").isGreaterThan(100);
    long open = made.stream().filter(m -> !m.closed()).count();
    assertThat(open).as("only the version serving is open").isEqualTo(1);
    models.close();
    assertThat(made).allSatisfy(m -> assertThat(m.closed()).isTrue());
  }
}
