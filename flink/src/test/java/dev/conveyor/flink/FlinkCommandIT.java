package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.cli.Main;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.testing.TestImages;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code conveyor flink}, with this module on the class path as the launcher puts it. */
@Timeout(180)
class FlinkCommandIT {

  private record Run(int code, String out, String err) {}

  private static Run conveyor(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void aFolderIsClassifiedByParallelTasksAndTheRuntimeReported() {
    int files = ImageFiles.expand(List.of(TestImages.folder())).size();
    Run run =
        conveyor(
            "flink",
            "--source",
            TestImages.folder().toString(),
            "-p",
            "2",
            "--model",
            ClassifyOperatorTest.MODEL,
            "--batch",
            "4");
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out().lines().filter(l -> l.startsWith("{\"id\""))).hasSize(files);
    assertThat(run.err()).containsPattern("classified " + files + " images \\(\\d+ errors\\) in");
    assertThat(run.err()).contains("images/s, 2 parallel tasks");
  }

  @Test
  void aRepositorysDefaultModelClassifiesAFolderAndNamesItsVersion(@TempDir Path repo)
      throws Exception {
    int files = ImageFiles.expand(List.of(TestImages.folder())).size();
    for (int version = 1; version <= 3; version++) {
      assertThat(ClassifyOperatorTest.publish(repo, "fashion")).isEqualTo(version);
    }
    Run run =
        conveyor(
            "flink",
            "--source",
            TestImages.folder().toString(),
            "--models",
            repo.toString(),
            "--default-model",
            "fashion");
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out().lines().filter(l -> l.startsWith("{\"id\"")))
        .hasSize(files)
        .allMatch(
            l -> l.contains("\"error\"") || l.contains("\"model\":\"fashion\",\"version\":3"));
    Run neither =
        conveyor(
            "flink",
            "--source",
            TestImages.folder().toString(),
            "--models",
            repo.toString(),
            "--model",
            ClassifyOperatorTest.MODEL);
    assertThat(neither.code()).isEqualTo(2);
    assertThat(neither.err()).contains("not both");
  }

  @Test
  void resultsGoToJsonLinesFilesInAFolder(@TempDir Path out) throws Exception {
    int files = ImageFiles.expand(List.of(TestImages.folder())).size();
    Run run =
        conveyor(
            "flink",
            "--source",
            TestImages.folder().toString(),
            "--sink",
            out.toString(),
            "--model",
            ClassifyOperatorTest.MODEL);
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).doesNotContain("{\"id\"");
    List<String> lines = new ArrayList<>();
    try (Stream<Path> parts = Files.list(out)) {
      for (Path part : parts.toList()) {
        assertThat(part.getFileName().toString()).startsWith("results-").endsWith(".jsonl");
        lines.addAll(Files.readAllLines(part));
      }
    }
    assertThat(lines).hasSize(files).allMatch(l -> l.startsWith("{\"id\""));
    assertThat(run.err()).contains("results in " + out);
  }

  @Test
  void benchRunsThePipelineAsAFlinkJobInTheSameRun(@TempDir Path dir) throws Exception {
    Run run =
        conveyor(
            "bench",
            "--engine",
            "flink",
            "--seconds",
            "0.5",
            "--model",
            ClassifyOperatorTest.MODEL,
            "--chart",
            dir.resolve("bench.png").toString(),
            "--json");
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.out()).contains("### flink: the same pipeline as a job on an embedded cluster");
    String json =
        run.out().lines().filter(l -> l.startsWith("{\"model\"")).findFirst().orElseThrow();
    com.fasterxml.jackson.databind.JsonNode engine =
        dev.conveyor.core.Json.read(json, com.fasterxml.jackson.databind.JsonNode.class)
            .at("/engines/0");
    assertThat(engine.get("engine").asText()).isEqualTo("flink");
    assertThat(engine.get("source").asText()).isEqualTo("folder");
    assertThat(engine.get("images").asInt()).isPositive();
    assertThat(engine.get("ips").asDouble()).isPositive();
  }

  @Test
  void engineImagesMeasuresTheJobAloneForEveryPath() throws Exception {
    // what bench --every-path runs in a process of its own; --partitions is the bench's own
    // transport setting, which the job does not take and must not be handed
    Run run =
        conveyor(
            "bench",
            "--engine",
            "flink",
            "--engine-images",
            "40",
            "--partitions",
            "2",
            "--batch",
            "4",
            "--model",
            ClassifyOperatorTest.MODEL);
    assertThat(run.code()).as(run.err()).isZero();
    String json = run.out().lines().filter(l -> l.startsWith("[")).findFirst().orElseThrow();
    com.fasterxml.jackson.databind.JsonNode job =
        dev.conveyor.core.Json.read(json, com.fasterxml.jackson.databind.JsonNode.class).get(0);
    assertThat(job.get("engine").asText()).isEqualTo("flink");
    assertThat(job.get("source").asText()).isEqualTo("folder");
    // at least as many as asked: the smaller job holds every distinct image, the larger twice that
    assertThat(job.get("images").asInt()).isGreaterThanOrEqualTo(40);
    assertThat(job.get("ips").asDouble()).isPositive();
    assertThat(job.get("cpu_ms").asDouble()).isPositive();
    assertThat(run.out()).doesNotContain("raw model");
  }

  @Test
  void aMistypedSettingStopsTheJobBeforeItStarts() {
    Run run = conveyor("flink", "--source", TestImages.folder().toString(), "--top", "0");
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("top must be a positive whole number, not '0'");
  }

  @Test
  void aRedisListIsRefusedWithTheFix() {
    Run run =
        conveyor(
            "flink",
            "--source",
            "redis://127.0.0.1:1?mode=list",
            "--model",
            ClassifyOperatorTest.MODEL);
    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("add mode=stream");
  }

  @Test
  void helpListsTheJobSettings() {
    Run run = conveyor("flink", "--help");
    assertThat(run.code()).isZero();
    assertThat(run.out())
        .contains("--source", "--sink", "-p, --parallelism", "--checkpoint-ms", "--restore")
        .contains("--model", "--batch");
  }
}
