package dev.conveyor.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.conveyor.assembly.Pipelines;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.Json;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.onnx.testing.TestModels.Colour;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class EveryPathTest {
  @TempDir Path dir;
  private Settings settings;

  @BeforeEach
  void writeModel() {
    Path model = TestModels.writeColour(dir.resolve("colours.onnx"), Colour.imagenetSized());
    settings = Pipelines.read(Map.of("model", model.toString(), "batch", "4"), "test");
  }

  private BenchPlan plan(Pipeline pipeline) {
    return new BenchPlan(pipeline, settings, Corpus.generate(8), 0.3, Optional.empty(), List.of());
  }

  @Test
  void everyPathIsOneRowAgainstTheRawModelMeasuredAtTheStart() throws Exception {
    List<String> asked = new ArrayList<>();
    EveryPath.EngineJobs jobs =
        (engine, images, broker) -> {
          asked.add(engine + " " + images + " " + broker.orElse("no broker"));
          return List.of(new EngineRun(engine, 1, "folder", "files", images, 5.0, 2.0, 3.0));
        };
    EveryPathReport r;
    try (Pipeline pipeline = Pipelines.open(settings)) {
      r = EveryPath.run(new EveryPath.Plan(plan(pipeline), List.of(), 2, List.of("stub"), jobs));
    }
    assertThat(r.rows())
        .extracting(EveryPathReport.Row::path)
        .containsExactly("embedded", "HTTP, 2 callers", "stub, folder → files, 1 task");
    EveryPathReport.Row embedded = r.rows().get(0);
    assertThat(embedded.ips()).isPositive();
    assertThat(embedded.ratio()).isCloseTo(embedded.ips() / r.raw().ips(), within(0.01));
    assertThat(embedded.cpuMs()).isPositive();
    assertThat(embedded.overhead())
        .isCloseTo(
            embedded.cpuMs() / (r.raw().cpuMsPerImage() + r.preprocess().cpuMsPerImage()),
            within(0.01));
    assertThat(embedded.p50Ms()).isNotNull().isPositive();
    assertThat(r.rows().get(1).ips()).as("the HTTP server answered").isPositive();
    // the engine's job ran once, on at least the corpus's images, with no Kafka broker given; its
    // row is against the same raw model as the others
    assertThat(asked).hasSize(1).allMatch(a -> a.startsWith("stub ") && a.endsWith(" no broker"));
    assertThat(Integer.parseInt(asked.get(0).split(" ")[1])).isGreaterThanOrEqualTo(8);
    EveryPathReport.Row engine = r.rows().get(2);
    assertThat(engine.ratio()).isCloseTo(5.0 / r.raw().ips(), within(0.001));
    assertThat(engine.p50Ms()).isNull();
    assertThat(r.rawAtEnd().ips()).isPositive();

    assertThat(r.markdown())
        .contains("| raw model: tensors in memory |")
        .contains("| embedded |")
        .contains("| HTTP, 2 callers |")
        .contains("| stub, folder → files, 1 task |")
        .contains("at the start of the run");
    String json = Json.write(r.json());
    assertThat(json).contains("\"paths\":[").doesNotContain("NaN");
    Path png = dir.resolve("every-path.png");
    BenchChart.write(r, png);
    assertThat(Files.readAllBytes(png)).startsWith(0x89, 'P', 'N', 'G');
  }

  @Test
  void aBrokerUriThatNoBrokerReadsIsRefusedBeforeAnythingIsMeasured() {
    try (Pipeline pipeline = Pipelines.open(settings)) {
      assertThatThrownBy(
              () ->
                  EveryPath.run(
                      new EveryPath.Plan(
                          plan(pipeline),
                          List.of("nosuch://127.0.0.1:1"),
                          0,
                          List.of(),
                          (e, n, b) -> List.of())))
          .isInstanceOfSatisfying(
              ConveyorException.class,
              e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SETTING));
    }
  }
}
