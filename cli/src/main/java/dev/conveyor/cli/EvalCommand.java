package dev.conveyor.cli;

import dev.conveyor.assembly.LocalWorkers;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.train.Evaluation;
import dev.conveyor.train.FashionMnist;
import dev.conveyor.train.PngExport;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code conveyor eval}: accuracy of a model on labelled images, measured the way users classify:
 * every image goes through PNG decoding, preprocessing and the batched pipeline.
 */
@Command(
    name = "eval",
    header = "Measure a model's accuracy and throughput on labelled images.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Classifies every labelled image through the same path as 'conveyor classify' (PNG "
          + "decode, preprocessing, batching, the ONNX model) and reports accuracy, per-class "
          + "accuracy and images/s. --data is the Fashion-MNIST IDX folder (each image is encoded "
          + "as PNG first), or a folder with one subfolder of images per class, such as 'conveyor "
          + "dataset export-png' writes. Writes REPORT.json (with the confusion matrix) and "
          + "REPORT.confusion.png.",
      "",
    })
final class EvalCommand implements Callable<Integer>, SettingOptions.Taking {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public SettingGroup[] settings() {
    return CommandSettings.PIPELINE;
  }

  @Option(
      names = "--data",
      paramLabel = "DIR",
      description = "IDX folder, or a folder of class folders. Default: ${DEFAULT-VALUE}.")
  Path data = FashionMnist.DEFAULT_DIR;

  @Option(
      names = "--split",
      paramLabel = "train|test",
      defaultValue = "test",
      description = "Split of an IDX folder. Default: ${DEFAULT-VALUE}.")
  String split;

  @Option(
      names = "--report",
      paramLabel = "PREFIX",
      description = "Where the report goes. Default: conveyor-eval-MODEL.")
  String report;

  /** One labelled image: its request and the index of its true class. */
  private record Sample(ImageRequest request, int label) {}

  @Override
  public Integer call() throws Exception {
    Settings settings = CommandSettings.pipeline(spec);
    try (Pipeline pipeline = CommandSettings.openForFiles(spec, settings, List.of(data))) {
      List<String> classes =
          pipeline.model().labels().isEmpty() ? FashionMnist.CLASSES : pipeline.model().labels();
      List<Sample> samples = samples(classes);
      Evaluation evaluation = new Evaluation(classes);
      long start;
      double seconds;
      try (LocalWorkers running = LocalWorkers.embedded(pipeline, settings, 1);
          ProgressBar bar = Progress.bar("eval", samples.size(), " img", 1, true)) {
        List<CompletableFuture<Void>> done = new ArrayList<>(samples.size());
        start = System.nanoTime();
        for (Sample s : samples) {
          done.add(
              running
                  .embedded()
                  .submit(s.request(), Duration.ofDays(1))
                  .thenAccept(
                      r -> {
                        evaluation.add(s.label(), predicted(r));
                        bar.step();
                      }));
        }
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).join();
        seconds = (System.nanoTime() - start) / 1e9;
      }
      print(evaluation, samples.size() / seconds, pipeline.model().name());
      String prefix = report != null ? report : "conveyor-eval-" + pipeline.model().name();
      Files.writeString(
          Path.of(prefix + ".json"),
          Json.write(json(evaluation, samples.size() / seconds, pipeline)) + "\n");
      TrainCharts.confusion(
          evaluation,
          "%s on %s: %.2f%% top-1"
              .formatted(pipeline.model().name(), data.getFileName(), 100 * evaluation.accuracy()),
          Path.of(prefix + ".confusion.png"));
      spec.commandLine().getOut().printf("wrote %s.json and %s.confusion.png%n", prefix, prefix);
      spec.commandLine().getOut().flush();
    }
    return 0;
  }

  /** The predicted class, or -1 (counted as wrong) for an image that could not be classified. */
  private static int predicted(ClassifyResult r) {
    return r.isOk() ? r.top().index() : -1;
  }

  private List<Sample> samples(List<String> classes) throws java.io.IOException {
    List<Sample> samples = new ArrayList<>();
    if (Files.isDirectory(data) && containsClassFolders(classes)) {
      for (int c = 0; c < classes.size(); c++) {
        Path folder = data.resolve(PngExport.folderName(classes.get(c)));
        if (!Files.isDirectory(folder)) {
          continue;
        }
        for (Path file : ImageFiles.expand(List.of(folder))) {
          samples.add(new Sample(ImageRequest.ofKey(file.toString()), c));
        }
      }
      return samples;
    }
    FashionMnist images = DatasetCommand.load(spec, data, split);
    for (int i = 0; i < images.count(); i++) {
      byte[] png = PngExport.png(images, i);
      samples.add(
          new Sample(ImageRequest.ofBytes(split + "/" + i, png, "image/png"), images.label(i)));
    }
    return samples;
  }

  private boolean containsClassFolders(List<String> classes) {
    for (String c : classes) {
      if (Files.isDirectory(data.resolve(PngExport.folderName(c)))) {
        return true;
      }
    }
    return false;
  }

  private void print(Evaluation e, double ips, String name) {
    PrintWriter out = spec.commandLine().getOut();
    out.printf("## conveyor eval: %s on %s (%d images)%n%n", name, data, e.total());
    out.printf(
        Locale.ROOT, "top-1 accuracy **%.4f**, %.0f images/s end to end%n%n", e.accuracy(), ips);
    out.println("| class | accuracy |");
    out.println("|---|---:|");
    e.perClass().forEach((c, a) -> out.printf(Locale.ROOT, "| %s | %.4f |%n", c, a));
    out.println();
  }

  private Map<String, Object> json(Evaluation e, double ips, Pipeline pipeline) {
    Map<String, Object> r = new LinkedHashMap<>();
    r.put("model", pipeline.model().name());
    r.put("data", data.toString());
    r.put("images", e.total());
    r.put("accuracy", e.accuracy());
    r.put("images_per_second", ips);
    r.put("per_class_accuracy", e.perClass());
    r.put("classes", e.classes());
    r.put("confusion", e.confusion());
    return r;
  }
}
