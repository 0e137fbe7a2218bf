package dev.conveyor.train;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Trains {@link Cnn} on Fashion-MNIST with DJL's PyTorch engine, offline. Pixels are scaled to 0..1
 * as the {@code fashion-mnist} preset does at serving time; half the training images are flipped
 * left to right each epoch. The same seed gives the same model: parameters are initialized from the
 * engine's seeded generator, and shuffling and flips from a seeded {@link Random}.
 */
public final class FashionTrainer implements AutoCloseable {
  /**
   * @param epochs passes over the training set
   * @param batch images per step
   * @param seed seeds initialization, shuffling, flips and dropout
   * @param learningRate Adam's rate at the start; it decays along a cosine to 1% of it
   */
  public record Options(int epochs, int batch, int seed, float learningRate) {
    public Options {
      if (epochs < 1 || batch < 1) {
        throw new IllegalArgumentException("epochs and batch must be at least 1");
      }
    }
  }

  /** What one epoch did. */
  public record Epoch(
      int epoch, double loss, double trainAccuracy, double testAccuracy, double seconds) {}

  /** Told about progress while training. */
  public interface Listener {
    void stepDone(int epoch, int step, int steps, double loss, double accuracy);

    void epochDone(Epoch epoch);
  }

  private final Model model;
  private final SequentialBlock block;
  private final Options options;

  private FashionTrainer(Model model, SequentialBlock block, Options options) {
    this.model = model;
    this.block = block;
    this.options = options;
  }

  /** A new, seeded, untrained network. */
  public static FashionTrainer create(Options options) {
    System.setProperty("ai.djl.offline", "true");
    Engine engine = Engine.getEngine("PyTorch");
    engine.setRandomSeed(options.seed());
    Model model = Model.newInstance("fashion-mnist", Device.cpu(), "PyTorch");
    SequentialBlock block = Cnn.block();
    model.setBlock(block);
    return new FashionTrainer(model, block, options);
  }

  public SequentialBlock block() {
    return block;
  }

  public NDManager manager() {
    return model.getNDManager();
  }

  /** Trains, evaluating on {@code test} after each epoch; returns one entry per epoch. */
  public List<Epoch> train(FashionMnist train, FashionMnist test, Listener listener) {
    int steps = (train.count() + options.batch() - 1) / options.batch();
    Tracker rate =
        Tracker.cosine()
            .setBaseValue(options.learningRate())
            .optFinalValue(options.learningRate() / 100)
            .setMaxUpdates(steps * options.epochs())
            .build();
    DefaultTrainingConfig config =
        new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
            .optOptimizer(Optimizer.adam().optLearningRateTracker(rate).build())
            .optDevices(new Device[] {Device.cpu()});
    Random random = new Random(options.seed());
    List<Epoch> history = new ArrayList<>();
    try (Trainer trainer = model.newTrainer(config)) {
      trainer.initialize(new Shape(1, 1, train.rows(), train.cols()));
      for (int epoch = 1; epoch <= options.epochs(); epoch++) {
        long start = System.nanoTime();
        int[] order = shuffled(train.count(), random);
        double lossSum = 0;
        long correct = 0;
        for (int step = 0; step < steps; step++) {
          int from = step * options.batch();
          int n = Math.min(options.batch(), train.count() - from);
          try (NDManager scope = manager().newSubManager()) {
            NDArray x = images(scope, train, order, from, n, random);
            NDArray y = labels(scope, train, order, from, n);
            NDArray logits;
            try (GradientCollector gradients = trainer.newGradientCollector()) {
              logits = trainer.forward(new NDList(x)).singletonOrThrow();
              NDArray loss = trainer.getLoss().evaluate(new NDList(y), new NDList(logits));
              gradients.backward(loss);
              lossSum += loss.getFloat() * n;
            }
            trainer.step();
            long right = logits.argMax(1).toType(y.getDataType(), false).eq(y).sum().getLong();
            correct += right;
            listener.stepDone(
                epoch, step + 1, steps, lossSum / (from + n), (double) correct / (from + n));
          }
        }
        double testAccuracy = Evaluation.of(this, test).accuracy();
        Epoch done =
            new Epoch(
                epoch,
                lossSum / train.count(),
                (double) correct / train.count(),
                testAccuracy,
                (System.nanoTime() - start) / 1e9);
        history.add(done);
        listener.epochDone(done);
      }
    }
    return history;
  }

  private static int[] shuffled(int n, Random random) {
    int[] order = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    for (int i = n - 1; i > 0; i--) {
      int j = random.nextInt(i + 1);
      int t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }

  /** A batch of images scaled to 0..1, half of them flipped left to right. */
  private static NDArray images(
      NDManager scope, FashionMnist data, int[] order, int from, int n, Random random) {
    int rows = data.rows();
    int cols = data.cols();
    float[] x = new float[n * data.pixels()];
    for (int k = 0; k < n; k++) {
      int base = order[from + k] * data.pixels();
      boolean flip = random.nextBoolean();
      for (int r = 0; r < rows; r++) {
        for (int c = 0; c < cols; c++) {
          int source = base + r * cols + (flip ? cols - 1 - c : c);
          x[k * data.pixels() + r * cols + c] = (data.images()[source] & 0xff) / 255f;
        }
      }
    }
    return scope.create(x, new Shape(n, 1, rows, cols));
  }

  private static NDArray labels(NDManager scope, FashionMnist data, int[] order, int from, int n) {
    float[] y = new float[n];
    for (int k = 0; k < n; k++) {
      y[k] = data.label(order[from + k]);
    }
    return scope.create(y, new Shape(n));
  }

  /** Accuracy and confusion matrix on {@code data}, in inference mode. */
  public Evaluation evaluate(FashionMnist data) {
    return Evaluation.of(this, data);
  }

  /** Logits for images {@code from} to {@code from + n} of {@code data}, in inference mode. */
  float[] logits(FashionMnist data, int from, int n) {
    try (NDManager scope = manager().newSubManager()) {
      float[] x = new float[n * data.pixels()];
      for (int i = 0; i < x.length; i++) {
        x[i] = (data.images()[from * data.pixels() + i] & 0xff) / 255f;
      }
      NDArray input = scope.create(x, new Shape(n, 1, data.rows(), data.cols()));
      NDList out =
          block.forward(new ai.djl.training.ParameterStore(scope, false), new NDList(input), false);
      return out.singletonOrThrow().toFloatArray();
    }
  }

  @Override
  public void close() {
    model.close();
  }
}
