package dev.conveyor.core.topk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.conveyor.core.Prediction;
import dev.conveyor.core.model.Labels;
import java.util.List;
import org.junit.jupiter.api.Test;

class TopKTest {
  private static final Labels ABC = Labels.of(List.of("a", "b", "c", "d", "e"));

  @Test
  void picksTheBestInOrderWithLabels() {
    float[] scores = {0.1f, 3f, -2f, 5f, 1f};
    List<Prediction> top = new TopK(3, ScoreMode.RAW, ABC).select(scores, 0, 5);
    assertThat(top).extracting(Prediction::label).containsExactly("d", "b", "e");
    assertThat(top).extracting(Prediction::score).containsExactly(5f, 3f, 1f);
  }

  @Test
  void softmaxTurnsLogitsIntoProbabilities() {
    float[] scores = {9, 1, 2, 3, 4, 5};
    List<Prediction> top = new TopK(5, ScoreMode.SOFTMAX, ABC).select(scores, 1, 5);
    double sum = top.stream().mapToDouble(Prediction::score).sum();
    assertThat(sum).isCloseTo(1.0, within(1e-5));
    assertThat(top.get(0).index()).isEqualTo(4);
    // exp(4)/sum(exp(0..4)) = 0.6364
    assertThat(top.get(0).score()).isCloseTo(0.6364f, within(1e-4f));
    assertThat(scores[0]).as("values outside the row are untouched").isEqualTo(9f);
  }

  @Test
  void autoLeavesProbabilitiesAloneAndSoftmaxesLogits() {
    float[] probs = {0.1f, 0.6f, 0.3f};
    assertThat(new TopK(1, ScoreMode.AUTO, Labels.none()).select(probs, 0, 3).get(0).score())
        .isEqualTo(0.6f);
    float[] logits = {1f, 2f, 0.5f};
    float p = new TopK(1, ScoreMode.AUTO, Labels.none()).select(logits, 0, 3).get(0).score();
    assertThat(p).isCloseTo(0.6285f, within(1e-4f));
  }

  @Test
  void kLargerThanTheClassesGivesEveryClassAndUnnamedIndicesAreNumbers() {
    List<Prediction> top =
        new TopK(10, ScoreMode.RAW, Labels.none()).select(new float[] {2, 1}, 0, 2);
    assertThat(top).extracting(Prediction::label).containsExactly("0", "1");
  }

  @Test
  void imagenetLabelsAreBundled() {
    Labels labels = Labels.imagenet();
    assertThat(labels.size()).isEqualTo(1000);
    assertThat(labels.label(0)).isEqualTo("tench");
    assertThat(labels.label(281)).isEqualTo("tabby");
  }
}
