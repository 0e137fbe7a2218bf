package dev.conveyor.cli;

import dev.conveyor.core.Json;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.train.Evaluation;
import dev.conveyor.train.FashionMnist;
import dev.conveyor.train.FashionTrainer;
import dev.conveyor.train.OnnxExport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code conveyor train}: trains the Fashion-MNIST CNN and exports it to ONNX. */
@Command(
    name = "train",
    header = "Train the Fashion-MNIST CNN (DJL + PyTorch, offline) and export it to ONNX.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Trains Conveyor's Fashion-MNIST CNN on the 60,000 training images with DJL's PyTorch "
          + "engine (its native libraries come inside the jars; nothing is downloaded), evaluates "
          + "it on the 10,000 test images after every epoch, and writes next to --out:",
      "  NAME.onnx               the model, class names in its metadata (ONNX Runtime serves it)",
      "  NAME.labels.txt         the class names, one per line",
      "  NAME.report.json        settings, time, accuracy overall and per class, confusion matrix",
      "  NAME.curve.png          loss and accuracy per epoch",
      "  NAME.confusion.png      the test-set confusion matrix",
      "The same --seed gives the same model.",
      "",
    })
final class TrainCommand implements Callable<Integer>, SettingOptions.Taking {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Option(
      names = "--data",
      paramLabel = "DIR",
      description = "Folder with the four IDX files, gzipped or not. Default: ${DEFAULT-VALUE}.")
  Path data = FashionMnist.DEFAULT_DIR;

  @Option(
      names = "--epochs",
      paramLabel = "N",
      defaultValue = "40",
      description = "Passes over the training set. Default: ${DEFAULT-VALUE}.")
  int epochs;

  @Option(
      names = {"--minibatch", "--batch"},
      paramLabel = "N",
      defaultValue = "128",
      description =
          "Training images per gradient step (not the pipeline's --batch: how many images a"
              + " model call takes). Default: ${DEFAULT-VALUE}.")
  int batch;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "42",
      description =
          "Seed for initialization, shuffling, augmentation, dropout. Default: ${DEFAULT-VALUE}.")
  int seed;

  @Option(
      names = "--lr",
      paramLabel = "RATE",
      defaultValue = "0.002",
      description =
          "Adam's starting learning rate; it decays along a cosine to 1%%. Default: ${DEFAULT-VALUE}.")
  float learningRate;

  @Option(
      names = "--shift",
      paramLabel = "PIXELS",
      defaultValue = "1",
      description =
          "Move each training image by up to this many pixels each way (a random crop of the "
              + "image padded with black); 0 turns it off. Default: ${DEFAULT-VALUE}.")
  int shift;

  @Option(
      names = "--erase",
      paramLabel = "P",
      defaultValue = "0.25",
      description =
          "Chance that a random rectangle (2-25%% of the image) of a training image is filled "
              + "with noise (random erasing); 0 turns it off. Default: ${DEFAULT-VALUE}.")
  double erase;

  @Option(
      names = "--no-flip",
      negatable = false,
      description = "Do not mirror half the training images left to right.")
  boolean noFlip;

  @Option(
      names = "--limit",
      paramLabel = "N",
      description = "Train on the first N training images only (quick runs).")
  Integer limit;

  @Option(
      names = "--out",
      paramLabel = "PATH",
      required = true,
      description = "Where to write the ONNX model, e.g. models/fashion-mnist.onnx.")
  Path out;

  @Mixin PublishOption publish;

  /** The object store's client settings, for --publish s3://…. */
  @Override
  public SettingGroup[] settings() {
    return new SettingGroup[] {FetchSettings.SETTINGS};
  }

  @Override
  public Integer call() {
    PrintWriter err = spec.commandLine().getErr();
    FashionMnist train;
    FashionMnist test;
    try {
      train = FashionMnist.load(data, FashionMnist.Split.TRAIN);
      test = FashionMnist.load(data, FashionMnist.Split.TEST);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    if (limit != null) {
      train = train.head(limit);
    }
    FashionTrainer.Augmentation augmentation;
    try {
      augmentation = new FashionTrainer.Augmentation(!noFlip, shift, erase);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    String stem = stem(out);
    long start = System.nanoTime();
    try (FashionTrainer trainer =
        FashionTrainer.create(
            new FashionTrainer.Options(epochs, batch, seed, learningRate, augmentation))) {
      List<FashionTrainer.Epoch> history = trainer.train(train, test, new Bars(epochs, err));
      double seconds = (System.nanoTime() - start) / 1e9;
      OnnxExport.write(trainer.block(), train.rows(), train.cols(), FashionMnist.CLASSES, out);
      Evaluation evaluation = trainer.evaluate(test);
      write(Path.of(stem + ".labels.txt"), String.join("\n", FashionMnist.CLASSES) + "\n");
      write(
          Path.of(stem + ".report.json"),
          Json.write(report(train.count(), seconds, history, evaluation, augmentation)) + "\n");
      TrainCharts.trainingCurve(history, Path.of(stem + ".curve.png"));
      TrainCharts.confusion(
          evaluation,
          "Fashion-MNIST test set: %.2f%% top-1".formatted(100 * evaluation.accuracy()),
          Path.of(stem + ".confusion.png"));
      PrintWriter stdout = spec.commandLine().getOut();
      stdout.printf(
          "trained %d epochs on %d images in %.0f s; test accuracy %.4f%nwrote %s and "
              + "%s.{labels.txt,report.json,curve.png,confusion.png}%n",
          epochs, train.count(), seconds, evaluation.accuracy(), out, stem);
      stdout.flush();
      publish.publish(spec, CommandSettings.read(spec, FetchSettings.SETTINGS), out, stdout);
    }
    return 0;
  }

  private Map<String, Object> report(
      int images,
      double seconds,
      List<FashionTrainer.Epoch> history,
      Evaluation e,
      FashionTrainer.Augmentation augmentation) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("model", out.toString());
    r.put("epochs", epochs);
    r.put("batch", batch);
    r.put("seed", seed);
    r.put("learning_rate", learningRate);
    r.put("augmentation", augmentation);
    r.put("train_images", images);
    r.put("training_seconds", Math.round(seconds));
    r.put("cores", Runtime.getRuntime().availableProcessors());
    r.put("test_accuracy", e.accuracy());
    r.put("per_class_accuracy", e.perClass());
    r.put("classes", e.classes());
    r.put("confusion", e.confusion());
    r.put("history", history.stream().map(TrainCommand::epoch).toList());
    return r;
  }

  private static Map<String, Object> epoch(FashionTrainer.Epoch e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("epoch", e.epoch());
    m.put("loss", e.loss());
    m.put("train_accuracy", e.trainAccuracy());
    m.put("test_accuracy", e.testAccuracy());
    m.put("seconds", e.seconds());
    return m;
  }

  static String stem(Path onnx) {
    String s = onnx.toString();
    return s.endsWith(".onnx") ? s.substring(0, s.length() - 5) : s;
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
    }
  }

  /** One progress bar per epoch, with the running loss and accuracy. */
  private static final class Bars implements FashionTrainer.Listener {
    private final int epochs;
    private final PrintWriter err;
    private ProgressBar bar;

    Bars(int epochs, PrintWriter err) {
      this.epochs = epochs;
      this.err = err;
    }

    @Override
    public void stepDone(int epoch, int step, int steps, double loss, double accuracy) {
      if (bar == null) {
        bar = Progress.bar("epoch %d/%d".formatted(epoch, epochs), steps, " steps", 1, false);
      }
      bar.stepTo(step);
      if (step % 10 == 0 || step == steps) {
        bar.setExtraMessage("loss %.4f acc %.4f".formatted(loss, accuracy));
      }
    }

    @Override
    public void epochDone(FashionTrainer.Epoch e) {
      bar.close();
      bar = null;
      err.printf(
          "epoch %d/%d: loss %.4f, train accuracy %.4f, test accuracy %.4f, %.0f s%n",
          e.epoch(), epochs, e.loss(), e.trainAccuracy(), e.testAccuracy(), e.seconds());
      err.flush();
    }
  }
}
