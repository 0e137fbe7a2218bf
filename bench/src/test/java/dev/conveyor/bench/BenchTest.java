package dev.conveyor.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.conveyor.assembly.Pipelines;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.onnx.testing.TestModels.Colour;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class BenchTest {
  @TempDir Path dir;
  private Settings settings;

  @BeforeEach
  void writeModel() {
    Path model = TestModels.writeColour(dir.resolve("colours.onnx"), Colour.imagenetSized());
    settings = Pipelines.read(Map.of("model", model.toString(), "batch", "4"), "test");
  }

  private BenchPlan plan(Pipeline pipeline, Optional<String> broker, List<Integer> http) {
    return new BenchPlan(pipeline, settings, Corpus.generate(8), 0.3, broker, http);
  }

  @Test
  void theEmbeddedPipelineIsMeasuredAgainstTheRawModelInTheSameRun() throws Exception {
    BenchResult r;
    try (Pipeline pipeline = Pipelines.open(settings)) {
      r = Bench.run(plan(pipeline, Optional.empty(), List.of()));
    }
    assertThat(r.model()).isEqualTo("colours");
    assertThat(r.batch()).isEqualTo(4);
    assertThat(r.images()).isEqualTo(8);
    assertThat(r.rawIps()).isPositive();
    assertThat(r.preprocessIps()).isPositive();
    assertThat(r.preprocessIpsOneThread()).isPositive();
    assertThat(r.decodeIpsOneThread()).isPositive();
    assertThat(r.json().decodeIpsOneThread())
        .isCloseTo(r.decodeIpsOneThread(), within(0.05 + r.decodeIpsOneThread() * 1e-3));
    assertThat(r.pipelineIps()).isPositive();
    assertThat(r.pipelineIps())
        .as("the pipeline runs the same model, and cannot outrun it")
        .isLessThanOrEqualTo(1.5 * r.rawIps());
    assertThat(r.latencyMs(50)).isPositive();
    assertThat(r.latencyMs(99)).isGreaterThanOrEqualTo(r.latencyMs(50));
    assertThat(r.meanBatch()).isBetween(1.0, 4.0);
    assertThat(r.pipelineName()).isEqualTo("embedded");
    assertThat(r.http()).isEmpty();
    assertThat(r.json().ratio()).isCloseTo(r.pipelineIps() / r.rawIps(), within(0.001));
    assertThat(r.markdown())
        .contains("| raw model: tensors in memory, batch 4, default threads |")
        .contains("**pipeline: embedded, end to end**")
        .contains("| decode only, 1 thread |")
        .doesNotContain("### HTTP");

    Path png = dir.resolve("charts/bench.png");
    BenchChart.write(r, png);
    assertThat(Files.readAllBytes(png)).startsWith(0x89, 'P', 'N', 'G');
  }

  @Test
  void withKeysThePipelineStageSendsKeysThatWorkersFetch() throws Exception {
    Corpus images = Corpus.generate(4);
    List<String> keys = new java.util.ArrayList<>();
    for (int i = 0; i < images.size(); i++) {
      Path file = dir.resolve("stored/" + i + ".jpg");
      Files.createDirectories(file.getParent());
      Files.write(file, images.image(i));
      keys.add(file.toString());
    }
    Corpus byKey = images.withKeys(keys);
    assertThat(byKey.request(5).hasBytes()).isFalse();
    assertThat(byKey.request(5).source()).isEqualTo(keys.get(1));
    assertThat(images.request(5).bytes()).isEqualTo(images.image(1));

    BenchResult r;
    try (Pipeline pipeline = Pipelines.open(settings)) {
      r = Bench.run(new BenchPlan(pipeline, settings, byKey, 0.3, Optional.empty(), List.of()));
    }
    assertThat(r.pipelineName()).isEqualTo("file → embedded");
    assertThat(r.pipelineIps()).isPositive();
  }

  @Test
  void withTensorsThePipelineStageSendsPreprocessedInputs() throws Exception {
    BenchResult r;
    try (Pipeline pipeline = Pipelines.open(settings)) {
      Corpus tensors = Corpus.generate(4).withTensors(pipeline);
      assertThat(tensors.request(1).contentType())
          .isEqualTo("application/x-tensor; dtype=float32; shape=1,3,224,224");
      assertThat(tensors.request(1).bytes()).hasSize(3 * 224 * 224 * 4);
      // the same result as the image it was made from
      var fromTensor = pipeline.classify(List.of(tensors.request(1))).get(0);
      var fromImage = pipeline.classify(List.of(Corpus.generate(4).request(1))).get(0);
      assertThat(fromTensor.predictions()).isEqualTo(fromImage.predictions());
      r = Bench.run(new BenchPlan(pipeline, settings, tensors, 0.3, Optional.empty(), List.of()));
    }
    assertThat(r.pipelineName()).isEqualTo("tensors → embedded");
    assertThat(r.pipelineIps()).isPositive();
  }

  @Test
  @Timeout(30)
  void anEngineThatIsNotOnTheClassPathIsAnInvalidSettingBeforeAnythingIsMeasured() {
    try (Pipeline pipeline = Pipelines.open(settings)) {
      BenchPlan plan =
          new BenchPlan(
              pipeline,
              settings,
              Corpus.generate(2),
              0.3,
              Optional.empty(),
              List.of(),
              Optional.of("flink"),
              1);
      long start = System.nanoTime();
      assertThatThrownBy(() -> Bench.run(plan))
          .isInstanceOfSatisfying(
              ConveyorException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
          .hasMessageContaining("the flink engine is not on the class path")
          .hasMessageContaining("./conveyor bench --engine flink");
      assertThat(System.nanoTime() - start).as("no stage ran").isLessThan(300_000_000L);
    }
  }

  @Test
  @Timeout(30)
  void aBrokerUriThatNoBrokerReadsIsAnInvalidSettingBeforeAnythingIsMeasured() {
    try (Pipeline pipeline = Pipelines.open(settings)) {
      assertThatThrownBy(
              () -> Bench.run(plan(pipeline, Optional.of("nats://127.0.0.1:4222"), List.of())))
          .isInstanceOfSatisfying(
              ConveyorException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
          .hasMessageContaining("no broker for 'nats://127.0.0.1:4222'");
    }
  }

  @Test
  void workersInOtherProcessesNeedABroker() {
    try (Pipeline pipeline = Pipelines.open(settings)) {
      assertThatThrownBy(() -> Bench.run(plan(pipeline, Optional.empty(), List.of()), List.of(1L)))
          .isInstanceOfSatisfying(
              ConveyorException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
          .hasMessageContaining("take their requests from a broker");
    }
  }

  @Test
  void httpCallersAndSecondsMustBePositive() {
    try (Pipeline pipeline = Pipelines.open(settings)) {
      assertThatThrownBy(() -> plan(pipeline, Optional.empty(), List.of(4, 0)))
          .isInstanceOfSatisfying(
              ConveyorException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING))
          .hasMessageContaining("HTTP callers must be at least 1, not 0");
      assertThatThrownBy(
              () ->
                  new BenchPlan(
                      pipeline, settings, Corpus.generate(1), 0, Optional.empty(), List.of()))
          .isInstanceOfSatisfying(
              ConveyorException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING));
    }
  }
}
