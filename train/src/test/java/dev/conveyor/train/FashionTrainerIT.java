package dev.conveyor.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.conveyor.onnx.OnnxClassifier;
import dev.conveyor.onnx.OnnxOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Training on real Fashion-MNIST images (Debian's dataset-fashion-mnist, which ./run-tests
 * installs).
 */
class FashionTrainerIT {
  static FashionMnist train;
  static FashionMnist test;
  @TempDir Path dir;

  @BeforeAll
  static void load() {
    train = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TRAIN).head(4000);
    test = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(1000);
  }

  @Test
  void aShortRunLearnsAndItsOnnxExportComputesWhatDjlComputes() {
    List<FashionTrainer.Epoch> history;
    Path onnx = dir.resolve("short.onnx");
    float[] djl;
    try (FashionTrainer trainer =
        FashionTrainer.create(
            new FashionTrainer.Options(2, 64, 7, 2e-3f, FashionTrainer.Augmentation.NONE))) {
      List<double[]> steps = new ArrayList<>();
      history =
          trainer.train(
              train,
              test,
              new FashionTrainer.Listener() {
                @Override
                public void stepDone(int epoch, int step, int total, double loss, double accuracy) {
                  steps.add(new double[] {loss, accuracy});
                }

                @Override
                public void epochDone(FashionTrainer.Epoch epoch) {}
              });
      assertThat(steps).hasSize(2 * 63);
      OnnxExport.write(trainer.block(), 28, 28, FashionMnist.CLASSES, onnx);
      djl = trainer.logits(test, 0, 200);
    }
    assertThat(history).hasSize(2);
    assertThat(history.get(1).testAccuracy()).as("far above chance (0.1)").isGreaterThan(0.65);
    assertThat(history.get(1).loss()).isLessThan(history.get(0).loss());

    try (OnnxClassifier onnxModel = OnnxClassifier.open(onnx, OnnxOptions.DEFAULT)) {
      assertThat(onnxModel.spec().labels()).containsExactlyElementsOf(FashionMnist.CLASSES);
      assertThat(onnxModel.spec().height()).isEqualTo(28);
      FloatBuffer in = direct(200 * 784);
      for (int i = 0; i < 200 * 784; i++) {
        in.put(i, (test.images()[i] & 0xff) / 255f);
      }
      FloatBuffer out = direct(200 * 10);
      onnxModel.run(in, 200, out);
      for (int i = 0; i < djl.length; i++) {
        assertThat(out.get(i)).as("logit %d", i).isCloseTo(djl[i], within(1e-4f));
      }
    }
  }

  @Test
  void theSameSeedGivesTheSameModel() throws Exception {
    FashionMnist small = train.head(600);
    byte[] first = trainAndExport(small, 11, dir.resolve("a.onnx"));
    byte[] second = trainAndExport(small, 11, dir.resolve("b.onnx"));
    byte[] other = trainAndExport(small, 12, dir.resolve("c.onnx"));
    assertThat(second).isEqualTo(first);
    assertThat(other).isNotEqualTo(first);
  }

  private static byte[] trainAndExport(FashionMnist data, int seed, Path file) throws Exception {
    try (FashionTrainer trainer =
        FashionTrainer.create(new FashionTrainer.Options(1, 100, seed, 1e-3f))) {
      trainer.train(data, test.head(100), FashionTrainerIT.quiet());
      OnnxExport.write(trainer.block(), 28, 28, FashionMnist.CLASSES, file);
    }
    return Files.readAllBytes(file);
  }

  static FashionTrainer.Listener quiet() {
    return new FashionTrainer.Listener() {
      @Override
      public void stepDone(int epoch, int step, int steps, double loss, double accuracy) {}

      @Override
      public void epochDone(FashionTrainer.Epoch epoch) {}
    };
  }

  private static FloatBuffer direct(int n) {
    return ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
  }
}
