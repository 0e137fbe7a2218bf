package dev.conveyor.flink;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.image.ImageFiles;
import dev.conveyor.core.settings.Arguments;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.CloseableIterator;

/**
 * Conveyor as a Flink job, seed 001's shape: the images of a folder, classified by the pipeline in
 * each parallel task, one JSON result per image, and the job's runtime and images/s at the end.
 *
 * <pre>
 * flink run -p 2 -c dev.conveyor.flink.ClassifyJob conveyor-flink.jar \
 *     --source /data/images --sink - --model resnet50.onnx --preset tf-resnet-v1 --batch 16
 * </pre>
 *
 * Every pipeline setting is a job argument ({@code --name value}); an unknown or invalid one stops
 * the job before it is submitted, naming it.
 */
public final class ClassifyJob {
  private ClassifyJob() {}

  /** What a bounded run did: results, and the job's runtime. */
  public record Report(long results, long errors, double seconds) {
    public double imagesPerSecond() {
      return results / seconds;
    }
  }

  public static void main(String[] args) throws Exception {
    Map<String, String> settings = new LinkedHashMap<>(Arguments.fromArgs(args));
    String source = settings.remove("source");
    String sink = settings.getOrDefault("sink", "-");
    settings.remove("sink");
    if (source == null) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "give --source DIR: the folder of images to classify");
    }
    if (!sink.equals("-")) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "the job writes its results to stdout only: --sink -");
    }
    PrintStream out = System.out;
    Report r =
        run(
            StreamExecutionEnvironment.getExecutionEnvironment(),
            Path.of(source),
            images(Path.of(source)),
            settings,
            out::println);
    System.err.printf(
        "classified %d images (%d errors) in %.1f s: %.1f images/s%n",
        r.results(), r.errors(), r.seconds(), r.imagesPerSecond());
  }

  /**
   * Runs the job on an embedded Flink cluster in this process with {@code parallelism} tasks: the
   * one-machine default of {@code conveyor flink}.
   */
  public static Report runLocally(
      Path folder,
      List<String> images,
      Map<String, String> settings,
      int parallelism,
      Consumer<String> results)
      throws Exception {
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(parallelism);
    return run(env, folder, images, settings, results);
  }

  /**
   * The images to classify: every file under {@code folder}, walked as {@code classify} walks it.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when there is no such folder, or it is empty
   */
  public static List<String> images(Path folder) {
    if (!Files.isDirectory(folder)) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "no folder at " + folder);
    }
    List<String> files = ImageFiles.expand(List.of(folder)).stream().map(Path::toString).toList();
    if (files.isEmpty()) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "no files under " + folder);
    }
    return files;
  }

  /**
   * Classifies {@code images} (the files of {@code folder}) on {@code env}, handing each result's
   * JSON to {@code results} as it comes back to the client.
   */
  public static Report run(
      StreamExecutionEnvironment env,
      Path folder,
      List<String> images,
      Map<String, String> settings,
      Consumer<String> results)
      throws Exception {
    ClassifyOperator<String> classify = new ClassifyOperator<>(settings, ImageRequest::ofKey);
    DataStream<String> classified =
        env.fromData(images)
            .name("images of " + folder)
            .transform("classify", Types.STRING, classify);
    long start = System.nanoTime();
    long count = 0;
    long errors = 0;
    try (CloseableIterator<String> it =
        classified.executeAndCollect("conveyor: classify " + folder)) {
      while (it.hasNext()) {
        String json = it.next();
        count++;
        if (!Json.read(json, ClassifyResult.class).isOk()) {
          errors++;
        }
        results.accept(json);
      }
    }
    return new Report(count, errors, (System.nanoTime() - start) / 1e9);
  }
}
