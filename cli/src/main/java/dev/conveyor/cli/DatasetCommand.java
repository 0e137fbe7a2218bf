package dev.conveyor.cli;

import dev.conveyor.train.FashionMnist;
import dev.conveyor.train.PngExport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code conveyor dataset}: tools for the Fashion-MNIST dataset. */
@Command(
    name = "dataset",
    header = "Fashion-MNIST dataset tools: export-png.",
    mixinStandardHelpOptions = true,
    subcommands = {DatasetCommand.ExportPng.class})
final class DatasetCommand implements Runnable {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code conveyor dataset export-png}: the IDX files as one folder of PNGs per class. */
  @Command(
      name = "export-png",
      header = "Write Fashion-MNIST as PNG files, one folder per class.",
      mixinStandardHelpOptions = true,
      sortOptions = false,
      description = {
        "Writes OUT/CLASS/NNNNN.png for every image of the split (NNNNN: its index in the "
            + "split), with class folders T-shirt-top, Trouser, Pullover, Dress, Coat, Sandal, "
            + "Shirt, Sneaker, Bag, Ankle-boot. 'conveyor classify' and 'conveyor eval --data OUT' "
            + "read them back.",
        "",
      })
  static final class ExportPng implements Callable<Integer> {
    @Spec picocli.CommandLine.Model.CommandSpec spec;

    @Option(
        names = "--data",
        paramLabel = "DIR",
        description = "Folder with the four IDX files. Default: ${DEFAULT-VALUE}.")
    Path data = FashionMnist.DEFAULT_DIR;

    @Option(
        names = "--out",
        paramLabel = "DIR",
        required = true,
        description = "Where to write the class folders.")
    Path out;

    @Option(
        names = "--split",
        paramLabel = "train|test",
        defaultValue = "test",
        description = "Which split. Default: ${DEFAULT-VALUE}.")
    String split;

    @Override
    public Integer call() {
      FashionMnist images = load(spec, data, split);
      try (ProgressBar bar = Progress.bar("export-png", images.count(), " img", 1, true)) {
        PngExport.write(images, out, bar::stepTo);
      }
      spec.commandLine().getOut().printf("wrote %d PNG files under %s%n", images.count(), out);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }

  /** Reads a split, turning a missing dataset into a usage error that says how to get it. */
  static FashionMnist load(picocli.CommandLine.Model.CommandSpec spec, Path data, String split) {
    FashionMnist.Split s =
        switch (split.toLowerCase(java.util.Locale.ROOT)) {
          case "train" -> FashionMnist.Split.TRAIN;
          case "test" -> FashionMnist.Split.TEST;
          default ->
              throw new ParameterException(
                  spec.commandLine(), "--split is train or test, not " + split);
        };
    try {
      return FashionMnist.load(data, s);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage() + ": pass it as --data DIR");
    }
  }
}
