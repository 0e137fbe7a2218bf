package dev.conveyor.bench;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.Engines;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.settings.Arguments;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Requests;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The pipeline as a job on a stream engine ({@code conveyor bench --engine flink}): as many images
 * as the pipeline stage got through in the plan's seconds, written to a folder (and, with a Kafka
 * or Redis-stream broker, sent to fresh topics or streams), then classified by the engine's job on
 * an embedded cluster into a folder (or back to the broker). Throughput counts from the first
 * results to the last, so the cluster's start and the models' loading are left out, as they are
 * from the other stages.
 */
final class EngineJob {
  private static final int MOST_IMAGES = 200_000;

  private EngineJob() {}

  /**
   * The engine by name.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when it is not on the class path
   */
  static Engine find(String name) {
    return Engines.find(name)
        .orElseThrow(
            () ->
                new ConveyorException(
                    ErrorCode.INVALID_SETTING,
                    "the "
                        + name
                        + " engine is not on the class path: run ./conveyor bench --engine "
                        + name
                        + ", which builds it on first use"));
  }

  static List<BenchResult.EngineLevel> measure(
      Engine engine, BenchPlan plan, double rawIps, double pipelineIps) throws Exception {
    int images =
        (int)
            Math.min(
                MOST_IMAGES,
                Math.max(plan.corpus().size(), Math.ceil(pipelineIps * plan.seconds() * 1.2)));
    List<BenchResult.EngineLevel> levels = new ArrayList<>();
    Path dir = Files.createTempDirectory("conveyor-bench-" + engine.name());
    try {
      Path in = Files.createDirectories(dir.resolve("images"));
      for (int i = 0; i < images; i++) {
        Files.write(in.resolve("i%06d".formatted(i)), plan.corpus().image(i));
      }
      levels.add(
          run(
              engine,
              plan,
              rawIps,
              pipelineIps,
              "folder",
              in.toString(),
              dir.resolve("out").toString(),
              images));
      if (plan.broker().isPresent() && brokerSource(plan.broker().get())) {
        String uri =
            fresh(plan.broker().get(), "conveyor-bench-" + System.currentTimeMillis(), images);
        Phase.say("sending %d images to %s".formatted(images, Brokers.open(uri).describe()));
        try (Requests p = Brokers.open(uri).producer()) {
          for (int i = 0; i < images; i++) {
            p.send(
                ImageRequest.ofBytes("i" + i, plan.corpus().image(i), null),
                Duration.ofSeconds(30));
          }
          if (!p.flush(Duration.ofSeconds(60)).isEmpty()) {
            throw new ConveyorException(ErrorCode.UNAVAILABLE, "the broker refused images");
          }
        }
        String kind = uri.substring(0, uri.indexOf(':'));
        levels.add(run(engine, plan, rawIps, pipelineIps, kind, uri, uri, images));
      }
    } finally {
      delete(dir);
    }
    return levels;
  }

  private static BenchResult.EngineLevel run(
      Engine engine,
      BenchPlan plan,
      double rawIps,
      double pipelineIps,
      String kind,
      String source,
      String sink,
      int images)
      throws Exception {
    Map<String, String> settings = new LinkedHashMap<>(plan.settings().given());
    settings.put("source", source);
    settings.put("sink", sink);
    if (engine.settings().settings().contains(JobSettings.PARALLELISM)) {
      settings.put("parallelism", Integer.toString(plan.parallelism()));
    }
    if (engine.settings().settings().contains(JobSettings.MAX_PER_BATCH)) {
      // about ten micro-batches: the rate is taken between the first one's end and the last's
      settings.put(
          "max-per-batch", Integer.toString(Math.max(plan.pipeline().batchSize(), images / 10)));
    }
    settings.put("until-end", "true");
    Phase.say("%s job, %s, %d images".formatted(engine.name(), kind, images));
    long[] first = {0, 0};
    long[] last = {0, 0};
    Engine.Report report =
        engine.runLocally(
            settings,
            new Engine.Listener() {
              @Override
              public void progress(long results, long errors) {
                long now = System.nanoTime();
                if (results > 0 && first[1] == 0) {
                  first[0] = now;
                  first[1] = results;
                }
                last[0] = now;
                last[1] = results;
              }
            });
    if (report.results() < images) {
      throw new ConveyorException(
          ErrorCode.INTERNAL,
          "the %s job gave %d results for %d images"
              .formatted(engine.name(), report.results(), images));
    }
    double seconds = (last[0] - first[0]) / 1e9;
    double ips =
        seconds > 0 && last[1] > first[1]
            ? (last[1] - first[1]) / seconds
            : report.imagesPerSecond();
    return new BenchResult.EngineLevel(
        engine.name(),
        plan.parallelism(),
        kind,
        kind.equals("folder") ? "files" : kind,
        images,
        BenchResult.round(ips),
        Math.round(ips / rawIps * 1000) / 1000.0,
        Math.round(ips / pipelineIps * 1000) / 1000.0,
        BenchResult.round(report.seconds()));
  }

  private static boolean brokerSource(String uri) {
    return uri.startsWith("kafka://") || (uri.startsWith("redis") && uri.contains("mode=stream"));
  }

  /** The broker URI with its own topics or streams and group, so the job reads only its images. */
  private static String fresh(String uri, String name, int images) {
    Arguments.Query q = Arguments.query(uri);
    Map<String, String> params = new LinkedHashMap<>(q.params());
    params.put(uri.startsWith("kafka://") ? "topic" : "images", name);
    params.put("results", name + "-results");
    params.put("group", name);
    if (!uri.startsWith("kafka://")) {
      // every image waits in the stream before the job starts
      params.put("max-length", Integer.toString(Math.max(10_000, 4 * images)));
    }
    return q.base()
        + "?"
        + params.entrySet().stream()
            .map(e -> e.getKey() + "=" + e.getValue())
            .collect(Collectors.joining("&"));
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> all = Files.walk(dir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
