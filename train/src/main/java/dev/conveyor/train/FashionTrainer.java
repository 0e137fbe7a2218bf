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
 * as the {@code fashion-mnist} preset does at serving time. Each epoch every training image is
 * augmented afresh ({@link Augmentation}): flipped left to right, shifted, and partly erased. The
 * same seed gives the same model: parameters are initialized from the engine's seeded generator,
 * and shuffling and augmentation come from a seeded {@link Random}.
 */
public final class FashionTrainer implements AutoCloseable {
  /**
   * @param epochs passes over the training set
   * @param batch images per step
   * @param seed seeds initialization, shuffling, flips and dropout
   * @param learningRate Adam's rate at the start; it decays along a cosine to 1% of it
   */
  public record Options(
      int epochs, int batch, int seed, float learningRate, Augmentation augmentation) {
    public Options {
      if (epochs < 1 || batch < 1) {
        throw new IllegalArgumentException("epochs and batch must be at least 1");
      }
    }

    public Options(int epochs, int batch, int seed, float learningRate) {
      this(epochs, batch, seed, learningRate, Augmentation.DEFAULT);
    }
  }

  /**
   * How each training image is changed before each step.
   *
   * @param flip mirror half the images left to right
   * @param shift move the image by up to this many pixels in each direction, filling with black (a
   *     random crop of the image padded by {@code shift})
   * @param erase the chance that one rectangle covering 2% to 25% of the image, of aspect ratio 0.3
   *     to 3.3, is filled with random grey levels (random erasing)
   */
  public record Augmentation(boolean flip, int shift, double erase) {
    /** What the bundled model was trained with. */
    public static final Augmentation DEFAULT = new Augmentation(true, 1, 0.25);

    /** No change: the images as they are. */
    public static final Augmentation NONE = new Augmentation(false, 0, 0);

    public Augmentation {
      if (shift < 0 || shift > 8 || erase < 0 || erase > 1) {
        throw new IllegalArgumentException(
            "shift must be 0 to 8 pixels and erase a probability from 0 to 1");
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
            NDArray x = images(scope, train, order, from, n, options.augmentation(), random);
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

  /** A batch of images scaled to 0..1 and augmented. */
  private static NDArray images(
      NDManager scope,
      FashionMnist data,
      int[] order,
      int from,
      int n,
      Augmentation augmentation,
      Random random) {
    int pixels = data.pixels();
    float[] x = new float[n * pixels];
    for (int k = 0; k < n; k++) {
      augment(data, order[from + k], augmentation, random, x, k * pixels);
    }
    return scope.create(x, new Shape(n, 1, data.rows(), data.cols()));
  }

  /** Writes image {@code index} of {@code data}, augmented, to {@code out} at {@code at}. */
  static void augment(
      FashionMnist data, int index, Augmentation a, Random random, float[] out, int at) {
    int rows = data.rows();
    int cols = data.cols();
    int base = index * data.pixels();
    boolean flip = a.flip() && random.nextBoolean();
    int dy = a.shift() == 0 ? 0 : random.nextInt(2 * a.shift() + 1) - a.shift();
    int dx = a.shift() == 0 ? 0 : random.nextInt(2 * a.shift() + 1) - a.shift();
    for (int r = 0; r < rows; r++) {
      int sr = r - dy;
      for (int c = 0; c < cols; c++) {
        int sc = c - dx;
        float v = 0;
        if (sr >= 0 && sr < rows && sc >= 0 && sc < cols) {
          v = (data.images()[base + sr * cols + (flip ? cols - 1 - sc : sc)] & 0xff) / 255f;
        }
        out[at + r * cols + c] = v;
      }
    }
    if (a.erase() > 0 && random.nextDouble() < a.erase()) {
      for (int attempt = 0; attempt < 10; attempt++) {
        double area = rows * cols * (0.02 + random.nextDouble() * 0.23);
        double ratio =
            Math.exp(Math.log(0.3) + random.nextDouble() * (Math.log(3.3) - Math.log(0.3)));
        int h = (int) Math.round(Math.sqrt(area * ratio));
        int w = (int) Math.round(Math.sqrt(area / ratio));
        if (h < 1 || w < 1 || h >= rows || w >= cols) {
          continue;
        }
        int top = random.nextInt(rows - h + 1);
        int left = random.nextInt(cols - w + 1);
        for (int r = top; r < top + h; r++) {
          for (int c = left; c < left + w; c++) {
            out[at + r * cols + c] = random.nextFloat();
          }
        }
        break;
      }
    }
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
