package dev.conveyor.onnx;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.model.ModelSpec;
import dev.conveyor.core.preprocess.Layout;
import dev.conveyor.onnx.testing.TestModels;
import dev.conveyor.onnx.testing.TestModels.Colour;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxClassifierTest {
  @TempDir Path dir;

  private static FloatBuffer direct(int n) {
    return ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }

  /** Random images, and the scores the colour model must give for them, computed here. */
  private static float[] expectedScores(FloatBuffer images, int count, Colour m) {
    int pixels = m.height() * m.width();
    float[] expected = new float[count * 3];
    for (int n = 0; n < count; n++) {
      for (int c = 0; c < m.channels(); c++) {
        double sum = 0;
        for (int p = 0; p < pixels; p++) {
          int index =
              m.nhwc()
                  ? n * pixels * m.channels() + p * m.channels() + c
                  : (n * m.channels() + c) * pixels + p;
          sum += images.get(index);
        }
        expected[n * 3 + c] += (float) (sum / pixels);
      }
      for (int k = 0; k < 3; k++) {
        expected[n * 3 + k] += 0.01f * k;
      }
    }
    return expected;
  }

  private static FloatBuffer randomImages(int count, Colour m, long seed) {
    Random random = new Random(seed);
    FloatBuffer images = direct(count * m.channels() * m.height() * m.width());
    while (images.hasRemaining()) {
      images.put(random.nextFloat() * 4 - 2);
    }
    return images.clear();
  }

  private void assertRunsLikeTheDefinition(Colour m, int count) {
    Path file = TestModels.writeColour(dir.resolve("m.onnx"), m);
    try (OnnxClassifier classifier = OnnxClassifier.open(file, OnnxOptions.DEFAULT)) {
      FloatBuffer images = randomImages(count, m, 42);
      FloatBuffer out = direct(count * 3);
      classifier.run(images, count, out);
      float[] expected = expectedScores(images, count, m);
      for (int i = 0; i < expected.length; i++) {
        assertThat(out.get(i)).as("score %d", i).isCloseTo(expected[i], within(1e-4f));
      }
    }
  }

  @Test
  void readsNameShapeLayoutAndLabelsFromTheModel() {
    Path file = TestModels.writeColour(dir.resolve("colours.onnx"), Colour.imagenetSized());
    try (OnnxClassifier classifier = OnnxClassifier.open(file, new OnnxOptions(1, 1, true))) {
      ModelSpec spec = classifier.spec();
      assertThat(spec.name()).isEqualTo("colours");
      assertThat(spec.layout()).isEqualTo(Layout.NCHW);
      assertThat(spec.channels()).isEqualTo(3);
      assertThat(spec.height()).isEqualTo(224);
      assertThat(spec.width()).isEqualTo(224);
      assertThat(spec.dynamicBatch()).isTrue();
      assertThat(spec.classes()).isEqualTo(3);
      assertThat(spec.labels()).containsExactly("red", "green", "blue");
    }
  }

  @Test
  void detectsChannelsLastInputs() {
    Path file =
        TestModels.writeColour(
            dir.resolve("tf.onnx"), Colour.imagenetSized().channelsLast().withBatch(1));
    try (OnnxClassifier classifier = OnnxClassifier.open(file, OnnxOptions.DEFAULT)) {
      assertThat(classifier.spec().layout()).isEqualTo(Layout.NHWC);
      assertThat(classifier.spec().fixedBatch()).isEqualTo(1);
    }
  }

  @Test
  void dynamicBatchRunsWholeBatchesLikeTheDefinition() {
    assertRunsLikeTheDefinition(Colour.imagenetSized().withSize(32, 24), 5);
  }

  @Test
  void channelsLastModelRunsLikeTheDefinition() {
    assertRunsLikeTheDefinition(Colour.imagenetSized().withSize(16, 16).channelsLast(), 3);
  }

  @Test
  void fixedBatchModelRunsInChunksWithTheLastPadded() {
    assertRunsLikeTheDefinition(Colour.imagenetSized().withSize(16, 16).withBatch(2), 5);
    assertRunsLikeTheDefinition(Colour.imagenetSized().withSize(16, 16).withBatch(1), 3);
  }

  @Test
  void aModelWithAnOpenImageSizeRunsAtTheSizeItIsGiven() {
    Path file =
        TestModels.writeColour(dir.resolve("open.onnx"), Colour.imagenetSized().withSize(0, 0));
    try (OnnxClassifier open = OnnxClassifier.open(file, OnnxOptions.DEFAULT)) {
      assertThat(open.spec().height()).isEqualTo(-1);
      FloatBuffer out = direct(3);
      assertThatThrownBy(() -> open.run(direct(3 * 8 * 8), 1, out))
          .hasMessageContaining("image size open");
    }
    try (OnnxClassifier classifier =
        OnnxClassifier.open(file, OnnxOptions.DEFAULT, spec -> withImage(spec, 3, 20, 10))) {
      assertThat(classifier.spec().height()).isEqualTo(20);
      Colour sized = Colour.imagenetSized().withSize(20, 10);
      FloatBuffer images = randomImages(2, sized, 7);
      FloatBuffer scores = direct(6);
      classifier.run(images, 2, scores);
      float[] expected = expectedScores(images, 2, sized);
      for (int i = 0; i < 6; i++) {
        assertThat(scores.get(i)).isCloseTo(expected[i], within(1e-4f));
      }
    }
  }

  @Test
  void aModelCannotBeFittedToAnImageSizeItFixes() {
    Path file =
        TestModels.writeColour(dir.resolve("fixed.onnx"), Colour.imagenetSized().withSize(20, 10));
    assertThatThrownBy(
            () ->
                OnnxClassifier.open(file, OnnxOptions.DEFAULT, spec -> withImage(spec, 1, 20, 10)))
        .hasMessageContaining("takes 3x20x10");
  }

  private static ModelSpec withImage(ModelSpec s, int c, int h, int w) {
    return new ModelSpec(s.name(), s.layout(), c, h, w, s.fixedBatch(), s.classes(), s.labels());
  }

  @Test
  void aMissingModelIsAnInvalidSettingNamingThePath() {
    assertThatThrownBy(() -> OnnxClassifier.open(dir.resolve("nope.onnx"), OnnxOptions.DEFAULT))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("no model file at")
        .hasMessageContaining("nope.onnx")
        .satisfies(
            e -> assertThat(((ConveyorException) e).code()).isEqualTo(ErrorCode.INVALID_SETTING));
  }

  @Test
  void aDamagedModelFailsWithItsPath() throws Exception {
    Path file = Files.write(dir.resolve("broken.onnx"), new byte[] {1, 2, 3, 4, 5});
    assertThatThrownBy(() -> OnnxClassifier.open(file, OnnxOptions.DEFAULT))
        .isInstanceOf(ConveyorException.class)
        .hasMessageContaining("cannot load the model")
        .hasMessageContaining("broken.onnx");
  }
}
