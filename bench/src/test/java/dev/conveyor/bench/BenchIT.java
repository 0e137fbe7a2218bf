package dev.conveyor.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.conveyor.assembly.Pipelines;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestWorkers;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.onnx.testing.TestModels.Colour;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bench measurements that start the HTTP server: the rates measured against a model of known cost,
 * and a short soak.
 */
@Timeout(120)
class BenchIT {
  @TempDir Path dir;
  private Settings settings;

  @BeforeEach
  void writeModel() {
    Path model = TestModels.writeColour(dir.resolve("colours.onnx"), Colour.imagenetSized());
    settings = Pipelines.read(Map.of("model", model.toString(), "batch", "4"), "test");
  }

  /** A second of each measurement, embedded, with HTTP at these numbers of callers. */
  private BenchPlan plan(Pipeline pipeline, List<Integer> http) {
    return new BenchPlan(pipeline, settings, Corpus.generate(8), 1.0, Optional.empty(), http);
  }

  @Test
  void aModelOfKnownCostIsMeasuredAtItsRate() throws Exception {
    // 40 ms a call of 4 images: the model alone cannot pass 100 images/s, and nearly reaches it
    MeanColourClassifier model = new MeanColourClassifier(32, 32).slow(40);
    BenchResult r;
    try (Pipeline pipeline = TestWorkers.pipeline(model, 4)) {
      r = Bench.run(plan(pipeline, List.of(1, 8)));
    }
    assertThat(r.rawIps()).as("raw: 4 images per 40 ms call").isBetween(60.0, 100.0);
    assertThat(r.pipelineIps())
        .as("the pipeline waits on the same model: 100/s, and a batch at the window's edge")
        .isLessThanOrEqualTo(104.0)
        .isGreaterThan(0.4 * r.rawIps());
    assertThat(r.latencyMs(50)).as("at least one model call").isGreaterThanOrEqualTo(40.0);
    assertThat(r.meanBatch()).as("a saturated worker fills its batches").isGreaterThan(2.0);
    var one = r.http().get(0);
    var eight = r.http().get(1);
    assertThat(one.ips()).as("one caller: one image per 40 ms call").isBetween(10.0, 26.0);
    assertThat(one.meanBatch()).isEqualTo(1.0);
    assertThat(one.p50Ms()).isGreaterThanOrEqualTo(40.0);
    assertThat(eight.ips()).as("eight callers share batches").isBetween(1.5 * one.ips(), 104.0);
    assertThat(eight.meanBatch()).isGreaterThan(2.0);
  }

  @Test
  void theCpuTimeOfAModelOfKnownCostIsAccountedPerStage() throws Exception {
    // 2 ms of CPU per image, computed on the calling thread
    MeanColourClassifier model = new MeanColourClassifier(32, 32).busy(2.0);
    BenchResult r;
    try (Pipeline pipeline = TestWorkers.pipeline(model, 4)) {
      r = Bench.run(plan(pipeline, List.of(8)));
    }
    BenchResult.Cpu cpu = r.cpu();
    String table = r.markdown();
    // the rest: the JIT compiler and the collector, most of it in the first seconds
    assertThat(cpu.raw()).as("the model's own 2 ms, and little else: " + table).isBetween(1.9, 3.2);
    assertThat(cpu.preprocess()).as("decoding costs something").isPositive();
    // preprocessing's CPU time moves with how busy the other hyperthread of a core is, so the
    // worker is held to the model's known cost below and to twice the sum of the stages above
    assertThat(cpu.pipeline())
        .as("the worker pays the model, and not more than twice what the stages cost: " + table)
        .isBetween(2.0, 2.0 * (cpu.raw() + cpu.preprocess()));
    assertThat(cpu.overhead()).isBetween(0.5, 2.0);
    var http = r.http().get(0);
    assertThat(http.cpuMs())
        .as("the server's CPU per image, without the client's")
        .isGreaterThanOrEqualTo(2.0);
    assertThat(http.overhead()).isPositive();
    assertThat(r.markdown()).contains("worker overhead in CPU time").contains("| CPU ms/image |");
    assertThat(r.json().cpu().overhead()).isCloseTo(cpu.overhead(), within(0.01));
  }

  @Test
  void workersInOtherProcessesAreAccountedFromTheSystemsCpuTime() throws Exception {
    // this process stands in for a worker elsewhere: its CPU time read as another process's is
    MeanColourClassifier model = new MeanColourClassifier(32, 32).busy(2.0);
    try (Pipeline pipeline = TestWorkers.pipeline(model, 4);
        dev.conveyor.assembly.LocalWorkers running =
            dev.conveyor.assembly.LocalWorkers.embedded(pipeline, settings, 1)) {
      PipelineLoad load =
          PipelineLoad.onProcesses(
              8, List.of(ProcessHandle.current().pid()), java.time.Duration.ofSeconds(1));
      Corpus corpus = Corpus.generate(8);
      Phase phase = new Phase("pipeline", 3);
      double ips =
          load.run(
              corpus,
              2.0,
              phase,
              request ->
                  running
                      .embedded()
                      .submit(request, java.time.Duration.ofMinutes(1))
                      .whenComplete(
                          (r, t) -> load.done(System.nanoTime() - request.enqueuedNanos())));
      phase.done();
      Measured m = load.measured("embedded", ips, 4);
      assertThat(ips).isPositive();
      assertThat(m.cpuMsPerImage())
          .as("the model's 2 ms, the decoding, and this process's sending, in clock ticks")
          .isBetween(2.0, 8.0);
    }
  }

  @Test
  void aSoakOverloadsTheServerAndAccountsForEveryRequest() throws Exception {
    // 10 ms a call of 4: at most 400 images/s; a queue of 16, so that twice that is refused
    Settings small =
        Pipelines.read(
            Map.of("model", dir.resolve("colours.onnx").toString(), "batch", "4", "queue", "16"),
            "test");
    MeanColourClassifier model = new MeanColourClassifier(32, 32).slow(10);
    Soak.Report r;
    try (Pipeline pipeline = TestWorkers.pipeline(model, 4)) {
      BenchPlan bench =
          new BenchPlan(pipeline, small, Corpus.generate(8), 1.0, Optional.empty(), List.of());
      r =
          Soak.run(
              new Soak.Plan(
                  bench,
                  java.time.Duration.ofSeconds(3),
                  2.0,
                  0,
                  Optional.empty(),
                  false,
                  List.of(),
                  64));
    }
    assertThat(r.capacity()).as("measured capacity").isBetween(50.0, 404.0);
    assertThat(r.offered()).isCloseTo(2 * r.capacity(), within(0.01 * r.capacity()));
    assertThat((double) r.sent())
        .as("sent at the offered rate")
        .isGreaterThan(0.5 * 3 * r.offered());
    assertThat(r.refused()).as("twice the capacity cannot all be taken").isPositive();
    assertThat(r.accepted() + r.refused() + r.unanswered()).isEqualTo(r.sent());
    assertThat(r.answered() + r.failed()).isEqualTo(r.accepted());
    assertThat(r.failed()).isZero();
    assertThat(r.lost()).isZero();
    assertThat(r.unanswered()).isZero();
    assertThat(r.p99Ms()).isGreaterThanOrEqualTo(r.p50Ms()).isGreaterThanOrEqualTo(10.0);
    assertThat(r.memory()).singleElement().satisfies(m -> assertThat(m.peakKb()).isPositive());
    assertThat(r.markdown())
        .contains("### Soak: HTTP /v1/classify, embedded")
        .contains("| this process |");
  }
}
