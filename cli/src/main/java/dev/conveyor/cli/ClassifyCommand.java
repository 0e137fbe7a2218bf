package dev.conveyor.cli;

import dev.conveyor.assembly.LocalWorkers;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code conveyor classify}: one JSON line per image, in the order given. */
@Command(
    name = "classify",
    header = "Classify image files or folders: one JSON line per image.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Classifies images and prints one JSON object per file to stdout, in input order:",
      "  {\"id\":\"…\",\"source\":\"photos/cat.jpg\",\"status\":\"ok\",\"model\":\"…\",",
      "\"predictions\":[{\"index\":281,\"label\":\"tabby\",\"score\":0.91}],\"latency_ms\":12.3}",
      "A file that is not a readable image gets \"status\":\"error\" with a code (EMPTY, "
          + "TOO_LARGE, UNSUPPORTED_FORMAT, CORRUPT, FETCH_FAILED) and a message; the exit status "
          + "is non-zero only for usage errors.",
      "",
    })
final class ClassifyCommand implements Callable<Integer>, SettingOptions.Taking {
  private static final int PROGRESS_THRESHOLD = 20;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public SettingGroup[] settings() {
    return CommandSettings.PIPELINE;
  }

  @picocli.CommandLine.Option(
      names = "--no-progress",
      description =
          "No progress bar on stderr (it shows when there are more than "
              + PROGRESS_THRESHOLD
              + " files).")
  boolean noProgress;

  @Parameters(
      paramLabel = "FILE|DIR",
      arity = "1..*",
      description = "Images, or directories to walk.")
  List<Path> inputs;

  @Override
  public Integer call() throws Exception {
    List<Path> files = ImageFiles.expand(inputs);
    PrintWriter out = spec.commandLine().getOut();
    Settings settings = CommandSettings.pipeline(spec);
    try (Pipeline pipeline = CommandSettings.openForFiles(spec, settings, inputs);
        LocalWorkers running = LocalWorkers.embedded(pipeline, settings, 1);
        ProgressBar progress = progress(files.size())) {
      Deque<CompletableFuture<ClassifyResult>> inFlight = new ArrayDeque<>();
      int window = Math.max(2 * pipeline.batchSize() * 3, 64);
      for (Path file : files) {
        ImageRequest request = ImageRequest.ofKey(file.toString());
        inFlight.add(submit(running, request));
        while (inFlight.size() >= window) {
          print(out, inFlight.poll(), progress);
        }
      }
      while (!inFlight.isEmpty()) {
        print(out, inFlight.poll(), progress);
      }
    }
    out.flush();
    return 0;
  }

  private static CompletableFuture<ClassifyResult> submit(LocalWorkers running, ImageRequest r)
      throws InterruptedException {
    return running.embedded().submit(r, Duration.ofDays(1));
  }

  private static void print(
      PrintWriter out, CompletableFuture<ClassifyResult> f, ProgressBar progress)
      throws InterruptedException {
    ClassifyResult result;
    try {
      result = f.get();
    } catch (ExecutionException e) {
      throw new dev.conveyor.core.ConveyorException(
          ErrorCode.INTERNAL, "classification stopped: " + e.getCause().getMessage(), e.getCause());
    }
    out.println(Json.write(result));
    if (progress != null) {
      progress.step();
    }
  }

  private ProgressBar progress(int files) {
    if (noProgress || files <= PROGRESS_THRESHOLD) {
      return null;
    }
    return Progress.bar("classify", files, " img", 1, true);
  }
}
