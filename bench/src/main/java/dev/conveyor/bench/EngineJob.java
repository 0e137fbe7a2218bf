package dev.conveyor.bench;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.Engines;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.settings.Arguments;
import dev.conveyor.core.settings.SettingGroup;
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
 * an embedded cluster into a folder (or back to the broker). After a warm-up job, each is run on a
 * fifth of the images and on all of them, and the throughput is the difference between the two, so
 * that the cluster's start and the models' loading are left out, as they are from the other stages.
 * Each job runs with the engine's defaults, as a user's would: on Spark, micro-batches of up to
 * {@code max-per-batch} (1024) images.
 */
public final class EngineJob {
  private static final int MOST_IMAGES = 200_000;

  private EngineJob() {}

  /**
   * The engine by name.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when it is not on the class path
   */
  public static Engine find(String name) {
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
    List<BenchResult.EngineLevel> levels = new ArrayList<>();
    for (EngineRun run : measure(engine, plan, images(plan, pipelineIps))) {
      levels.add(run.against(rawIps, pipelineIps));
    }
    return levels;
  }

  /**
   * Images for an engine's job: as many as a pipeline at {@code pipelineIps} classifies in the
   * plan's seconds, and a fifth more, so that the job runs about as long as the other stages.
   */
  public static int images(BenchPlan plan, double pipelineIps) {
    return (int)
        Math.min(
            MOST_IMAGES,
            Math.max(plan.corpus().size(), Math.ceil(pipelineIps * plan.seconds() * 1.2)));
  }

  /**
   * The engine's job on {@code images} of the plan's images (cycling through them), from a folder
   * into files and, when the plan's broker is Kafka or a Redis stream, from the broker back to it.
   * A folder is classified by the job's operator and, where the engine takes {@code api}, by the
   * SQL function {@code classify} too. Each source is classified three times: a fifth of the images
   * to warm up, the same again, then all of them, in jobs that start alike. The rate is what the
   * last job did beyond the one before, in the time and the CPU time it took beyond that one's, so
   * that what every job costs once (the cluster's start, the model's loading) is left out, as it is
   * from the other stages.
   *
   * @throws ConveyorException {@code INTERNAL} when a job gave fewer results than images
   */
  public static List<EngineRun> measure(Engine engine, BenchPlan plan, int images)
      throws Exception {
    int few = Math.max(plan.corpus().size(), images / 5);
    int all = Math.max(images, 2 * few);
    List<EngineRun> levels = new ArrayList<>();
    Path dir = Files.createTempDirectory("conveyor-bench-" + engine.name());
    try {
      // a job of the fewer images first, unmeasured: the compiler's first work is not in either
      // measured job, which run in this process after it
      Timed[] jobs = new Timed[3];
      int[] counts = {few, few, all};
      Path[] folders = new Path[3];
      for (int k = 0; k < 3; k++) {
        folders[k] = Files.createDirectories(dir.resolve("images-" + k));
        for (int i = 0; i < counts[k]; i++) {
          Files.write(folders[k].resolve("i%06d".formatted(i)), plan.corpus().image(i));
        }
      }
      // the folder through the job's operator and, where the engine takes it, through the SQL
      // function, as a user's own query calls it
      List<String> apis =
          engine.settings().settings().contains(JobSettings.API)
              ? List.of("operator", "sql")
              : List.of("operator");
      for (String api : apis) {
        String source = api.equals("sql") ? "folder (SQL classify)" : "folder";
        for (int k = 0; k < 3; k++) {
          jobs[k] =
              timed(
                  engine,
                  plan,
                  source,
                  folders[k].toString(),
                  dir.resolve("out-" + api + "-" + k).toString(),
                  counts[k],
                  api.equals("sql") ? Map.of(JobSettings.API.name(), api) : Map.of());
        }
        levels.add(between(engine, plan, source, "files", jobs[1], jobs[2]));
      }
      if (plan.broker().isPresent() && brokerSource(plan.broker().get())) {
        String kind = plan.broker().get().substring(0, plan.broker().get().indexOf(':'));
        for (int k = 0; k < 3; k++) {
          String uri =
              fresh(
                  plan.broker().get(),
                  "conveyor-bench-" + System.currentTimeMillis() + "-" + k,
                  counts[k]);
          send(uri, plan.corpus(), counts[k]);
          jobs[k] = timed(engine, plan, kind, uri, uri, counts[k], Map.of());
        }
        levels.add(between(engine, plan, kind, kind, jobs[1], jobs[2]));
      }
    } finally {
      delete(dir);
    }
    return levels;
  }

  /** One job: its images, and the wall-clock and CPU time it took, from its start to its end. */
  private record Timed(int images, long nanos, long cpuNanos) {}

  /** What the larger job did beyond the smaller one, per second and in CPU time per image. */
  private static EngineRun between(
      Engine engine, BenchPlan plan, String source, String sink, Timed few, Timed all) {
    int images = all.images() - few.images();
    double seconds = (all.nanos() - few.nanos()) / 1e9;
    // jobs too short for the difference to rise above the noise are measured whole instead
    double ips = seconds > 0 ? images / seconds : all.images() / (all.nanos() / 1e9);
    long cpuNanos = all.cpuNanos() - few.cpuNanos();
    double cpuMs = cpuNanos > 0 ? cpuNanos / 1e6 / images : all.cpuNanos() / 1e6 / all.images();
    return new EngineRun(
        engine.name(),
        plan.parallelism(),
        source,
        sink,
        all.images(),
        BenchResult.round(ips),
        BenchResult.round(all.nanos() / 1e9),
        BenchResult.round3(cpuMs));
  }

  private static void send(String uri, Corpus corpus, int images) throws Exception {
    Phase.say("sending %d images to %s".formatted(images, Brokers.open(uri).describe()));
    try (Requests p = Brokers.open(uri).producer()) {
      for (int i = 0; i < images; i++) {
        p.send(ImageRequest.ofBytes("i" + i, corpus.image(i), null), Duration.ofSeconds(30));
      }
      if (!p.flush(Duration.ofSeconds(60)).isEmpty()) {
        throw new ConveyorException(ErrorCode.UNAVAILABLE, "the broker refused images");
      }
    }
  }

  /**
   * One job from {@code source} to {@code sink} on {@code images} images, until its source ends.
   *
   * @param extra settings of this job's own ({@code api})
   */
  private static Timed timed(
      Engine engine,
      BenchPlan plan,
      String kind,
      String source,
      String sink,
      int images,
      Map<String, String> extra)
      throws Exception {
    // the pipeline's settings, less where the bench's own pipeline stage sends its requests and
    // results, which the job does not take: its source and sink say that
    Map<String, String> settings = new LinkedHashMap<>(plan.settings().given());
    for (SettingGroup bench :
        List.of(PipelineSettings.TRANSPORT_SETTINGS, PipelineSettings.RESULT_SETTINGS)) {
      bench.settings().forEach(s -> settings.remove(s.name()));
    }
    settings.put("source", source);
    settings.put("sink", sink);
    if (engine.settings().settings().contains(JobSettings.PARALLELISM)) {
      settings.put("parallelism", Integer.toString(plan.parallelism()));
    }
    settings.put("until-end", "true");
    settings.putAll(extra);
    Phase.say("%s job, %s, %d images".formatted(engine.name(), kind, images));
    long cpu = CpuTime.process();
    long start = System.nanoTime();
    Engine.Report report = engine.runLocally(settings, new Engine.Listener() {});
    long nanos = System.nanoTime() - start;
    cpu = CpuTime.process() - cpu;
    if (report.results() < images) {
      throw new ConveyorException(
          ErrorCode.INTERNAL,
          "the %s job gave %d results for %d images"
              .formatted(engine.name(), report.results(), images));
    }
    return new Timed(images, nanos, cpu);
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
