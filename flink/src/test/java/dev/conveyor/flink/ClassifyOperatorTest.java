package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.testing.TestImages;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.flink.streaming.util.OneInputStreamOperatorTestHarness;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The operator inside a Flink test harness: batching, its timer, the checkpoint barrier. */
@Timeout(60)
class ClassifyOperatorTest {
  static final String MODEL =
      Path.of("..", "models", "fashion-mnist.onnx").toAbsolutePath().normalize().toString();

  private static OneInputStreamOperatorTestHarness<String, String> harness(
      String batch, String linger) throws Exception {
    ClassifyOperator<String> operator =
        new ClassifyOperator<>(
            Map.of("model", MODEL, "batch", batch, "linger-ms", linger), ImageRequest::ofKey);
    OneInputStreamOperatorTestHarness<String, String> h =
        new OneInputStreamOperatorTestHarness<>(operator);
    h.open();
    return h;
  }

  private static JsonNode tree(String json) {
    return Json.read(json, JsonNode.class);
  }

  private static String image(String name) {
    return TestImages.folder().resolve(name).toString();
  }

  @Test
  void aFullBatchRunsAtOnceAndTheRestBeforeTheCheckpointBarrier() throws Exception {
    try (var h = harness("2", "600000")) {
      h.processElement(image("tiny-gray.png"), 0);
      assertThat(h.extractOutputValues()).isEmpty();
      h.processElement(image("palette-blue.png"), 0);
      assertThat(h.extractOutputValues()).as("a full batch runs at once").hasSize(2);
      h.processElement(image("truncated.jpg"), 0);
      assertThat(h.extractOutputValues()).hasSize(2);
      h.prepareSnapshotPreBarrier(1);
      List<JsonNode> results =
          h.extractOutputValues().stream().map(ClassifyOperatorTest::tree).toList();
      assertThat(results).as("nothing waits in the buffer across a checkpoint").hasSize(3);
      assertThat(results.get(0).get("status").asText()).isEqualTo("ok");
      assertThat(results.get(0).get("model").asText()).isEqualTo("fashion-mnist");
      assertThat(results.get(2).at("/error/code").asText())
          .as("a bad image is an error result, not a failed job")
          .isEqualTo("CORRUPT");
    }
  }

  @Test
  void aLoneRequestRunsWhenTheLingerTimerFires() throws Exception {
    try (var h = harness("8", "50")) {
      h.setProcessingTime(1_000);
      h.processElement(image("palette-blue.png"), 0);
      h.setProcessingTime(1_049);
      assertThat(h.extractOutputValues()).isEmpty();
      h.setProcessingTime(1_050);
      assertThat(h.extractOutputValues()).hasSize(1);
    }
  }

  @Test
  void theEndOfABoundedInputRunsWhatIsLeft() throws Exception {
    try (var h = harness("8", "600000")) {
      h.processElement(image("palette-blue.png"), 0);
      h.processElement(image("yellow.bmp"), 0);
      h.endInput();
      assertThat(h.extractOutputValues()).hasSize(2);
    }
  }

  @Test
  void aBadSettingFailsOnTheClientBeforeTheJobIsSubmitted() {
    assertThatThrownBy(
            () -> new ClassifyOperator<String>(Map.of("bacth", "2"), ImageRequest::ofKey))
        .hasMessageContaining("unknown job settings [bacth]");
  }
}
