package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.onnx.testing.TestModels.Colour;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench --http}: the server started in the bench and loaded at each concurrency. */
class BenchCommandIT {
  @TempDir Path dir;

  @Test
  void httpLoadsTheServerAtEachConcurrencyGiven() throws Exception {
    Path model = TestModels.writeColour(dir.resolve("colours.onnx"), Colour.imagenetSized());
    CliRun run =
        CliRun.of(
            "bench",
            "--model",
            model.toString(),
            "--seconds",
            "0.5",
            "--batch",
            "4",
            "--http",
            "1,4",
            "--chart",
            dir.resolve("bench.png").toString(),
            "--json");
    assertThat(run.exitCode()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("### HTTP: POST /v1/classify")
        .containsPattern("\\| 1 \\| [0-9.]+ \\|")
        .containsPattern("\\| 4 \\| [0-9.]+ \\|");
    JsonNode http = run.jsonLines().get(0).get("http");
    assertThat(http).hasSize(2);
    assertThat(http.get(0).get("concurrency").asInt()).isEqualTo(1);
    assertThat(http.get(1).get("concurrency").asInt()).isEqualTo(4);
    for (JsonNode level : http) {
      assertThat(level.get("ips").asDouble()).as("answered calls per second").isPositive();
      assertThat(level.get("p99_ms").asDouble())
          .isGreaterThanOrEqualTo(level.get("p50_ms").asDouble());
    }
    assertThat(http.get(0).get("mean_batch").asDouble())
        .as("one caller at a time: batches of one")
        .isEqualTo(1.0);
  }
}
