package dev.conveyor.cli;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.Json;
import dev.conveyor.core.broker.Broker;
import dev.conveyor.core.broker.ReplyClient;
import dev.conveyor.core.image.OpenCv;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.transport.ResultSink;
import dev.conveyor.core.transport.Transport;
import dev.conveyor.core.worker.Worker;
import dev.conveyor.core.worker.WorkerStats;
import dev.conveyor.pipeline.LocalWorkers;
import dev.conveyor.pipeline.PipelineSettings;
import dev.conveyor.pipeline.Pipelines;
import dev.conveyor.server.ConveyorServer;
import dev.conveyor.server.EmbeddedClassify;
import dev.conveyor.server.ServerConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.MatOfInt;
import org.opencv.core.Size;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code conveyor bench}: measures, in one run, the model's raw throughput on tensors already in
 * memory (the limit), decode+preprocess throughput, and the end-to-end embedded pipeline with its
 * latency, and reports the pipeline as a fraction of the limit.
 */
@Command(
    name = "bench",
    header = "Measure throughput and latency against the raw model limit.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Measures, in one run, how close the pipeline comes to the model's limit:",
      "  raw         the model alone on tensors in memory (same threads and batch)",
      "  preprocess  decode, resize, normalize: all preprocessing threads, then one",
      "  pipeline    end to end through the embedded transport: bytes in, results out",
      "Prints a markdown table and writes a PNG chart; --json adds one JSON line.",
      ""
    })
final class BenchCommand implements Callable<Integer>, SettingOptions.Taking {
  @Spec picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public SettingGroup[] settings() {
    return CommandSettings.PIPELINE;
  }

  private Settings settings;

  @Option(
      names = "--images",
      paramLabel = "DIR",
      description = "Images to use (read into memory first). Default: 64 generated 640x480 JPEGs.")
  Path images;

  @Option(
      names = "--seconds",
      paramLabel = "S",
      defaultValue = "10",
      description = "Seconds per measurement. Default: ${DEFAULT-VALUE}.")
  double seconds;

  @Option(
      names = "--chart",
      paramLabel = "PNG",
      description = "Where to write the chart. Default: conveyor-bench-MODEL.png.")
  Path chart;

  @Option(
      names = "--transport",
      paramLabel = "URI",
      description =
          "Run the pipeline stage through a broker, e.g. redis://127.0.0.1:6379?mode=stream or kafka://127.0.0.1:9092: a producer,"
              + " a worker and a result reader in this process. Default: the embedded transport.")
  String transport;

  @Option(
      names = "--http",
      paramLabel = "C",
      split = ",",
      description =
          "Also load the HTTP server (POST /v1/classify, embedded workers) with C callers at once,"
              + " each waiting for its answer, for each C given: e.g. --http 1,8,32.")
  List<Integer> http = List.of();

  @Option(names = "--json", description = "Also print the results as one JSON line.")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    settings = CommandSettings.pipeline(spec);
    try (Pipeline engine = CommandSettings.open(spec, settings)) {
      List<byte[]> corpus = images != null ? readImages(images) : generateImages(64);
      int n = engine.batchSize();
      BenchResult.Builder result = new BenchResult.Builder(engine.model().name(), n, corpus.size());
      int preprocessThreads = settings.get(PipelineSettings.PREPROCESS_THREADS);
      result.threads(settings.get(PipelineSettings.THREADS), preprocessThreads);
      Phase.say("warming up");
      measureRaw(engine, corpus, n, Math.min(2, seconds), null);
      result.raw(measureRaw(engine, corpus, n, seconds, new Phase("raw model", seconds)));
      result.preprocess(
          measurePreprocess(
              engine, corpus, preprocessThreads, seconds, new Phase("preprocess", seconds)));
      result.preprocessOneThread(
          measurePreprocess(
              engine, corpus, 1, seconds / 2, new Phase("preprocess, 1 thread", seconds / 2)));
      if (transport == null) {
        measurePipeline(engine, corpus, result);
      } else {
        measureThroughBroker(engine, corpus, result, transport);
      }
      if (!http.isEmpty()) {
        measureHttp(engine, corpus, result);
      }
      BenchResult r = result.build();
      out.println(r.markdown());
      Path png = chart != null ? chart : Path.of("conveyor-bench-" + r.model() + ".png");
      BenchChart.write(r, png);
      out.println("chart: " + png);
      if (json) {
        out.println(Json.write(r.json()));
      }
    }
    out.flush();
    return 0;
  }

  private static List<byte[]> readImages(Path dir) throws IOException {
    List<byte[]> all = new ArrayList<>();
    for (Path file : Inputs.expand(List.of(dir))) {
      all.add(Files.readAllBytes(file));
    }
    if (all.isEmpty()) {
      throw new ConveyorException(
          dev.conveyor.core.ErrorCode.FETCH_FAILED, "no files under " + dir);
    }
    return all;
  }

  /** Photo-like JPEGs: blurred noise at several scales, deterministic. */
  static List<byte[]> generateImages(int count) {
    OpenCv.load();
    Core.setRNGSeed(1234);
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Mat coarse = new Mat(30, 40, CvType.CV_8UC3);
      Core.randu(coarse, 0, 255);
      Mat image = new Mat();
      Imgproc.resize(coarse, image, new Size(640, 480), 0, 0, Imgproc.INTER_CUBIC);
      Mat fine = new Mat(480, 640, CvType.CV_8UC3);
      Core.randn(fine, 0, 12);
      Core.add(image, fine, image);
      MatOfByte jpeg = new MatOfByte();
      Imgcodecs.imencode(".jpg", image, jpeg, new MatOfInt(Imgcodecs.IMWRITE_JPEG_QUALITY, 90));
      out.add(jpeg.toArray());
      for (Mat m : List.of(coarse, image, fine, jpeg)) {
        m.release();
      }
    }
    return out;
  }

  private static FloatBuffer direct(int floats) {
    return ByteBuffer.allocateDirect(floats * Float.BYTES)
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  /** Images per second through the model alone, on a batch of real preprocessed images. */
  private static double measureRaw(
      Pipeline engine, List<byte[]> corpus, int n, double seconds, Phase phase) {
    ByteBuffer inputBytes =
        ByteBuffer.allocateDirect(n * engine.preprocessor().tensorBytes())
            .order(ByteOrder.nativeOrder());
    FloatBuffer input = inputBytes.asFloatBuffer();
    FloatBuffer output = direct(n * engine.model().classes());
    int filled = 0;
    for (int i = 0; filled < n && i < corpus.size() * 2; i++) {
      try {
        engine.preprocessor().preprocess(corpus.get(i % corpus.size()), inputBytes, filled);
        filled++;
      } catch (ConveyorException e) {
        // an unreadable file in the corpus: the slot is filled by the next one
      }
    }
    if (filled < n) {
      throw new ConveyorException(
          dev.conveyor.core.ErrorCode.CORRUPT, "too few decodable images to fill a batch");
    }
    long end = System.nanoTime() + (long) (seconds * 1e9);
    long start = System.nanoTime();
    long images = 0;
    do {
      engine.classifier().run(input, n, output);
      images += n;
      if (phase != null) {
        phase.tick();
      }
    } while (System.nanoTime() < end);
    if (phase != null) {
      phase.done();
    }
    return images / ((System.nanoTime() - start) / 1e9);
  }

  /** Images per second decoded and preprocessed by {@code threads} threads. */
  private static double measurePreprocess(
      Pipeline engine, List<byte[]> corpus, int threads, double seconds, Phase phase)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    LongAdder done = new LongAdder();
    AtomicBoolean stop = new AtomicBoolean();
    List<Future<?>> tasks = new ArrayList<>();
    long start = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      int offset = t;
      tasks.add(
          pool.submit(
              () -> {
                ByteBuffer slot =
                    ByteBuffer.allocateDirect(engine.preprocessor().tensorBytes())
                        .order(ByteOrder.nativeOrder());
                for (int i = offset; !stop.get(); i++) {
                  try {
                    engine.preprocessor().preprocess(corpus.get(i % corpus.size()), slot, 0);
                  } catch (ConveyorException e) {
                    // a broken image is work done too: it was read and refused
                  }
                  done.increment();
                }
              }));
    }
    long end = start + (long) (seconds * 1e9);
    while (System.nanoTime() < end) {
      Thread.sleep(50);
      phase.tick();
    }
    stop.set(true);
    for (Future<?> f : tasks) {
      f.get();
    }
    double elapsed = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    phase.done();
    return done.sum() / elapsed;
  }

  private int inFlight() {
    return settings.get(PipelineSettings.BATCH) * Pipelines.workerConfig(settings).pipelineDepth();
  }

  /** End to end through the embedded transport, with latency from submit to result. */
  private void measurePipeline(Pipeline engine, List<byte[]> corpus, BenchResult.Builder result)
      throws Exception {
    Phase phase = new Phase("pipeline", seconds + 1);
    PipelineLoad load = new PipelineLoad(inFlight());
    try (LocalWorkers running = LocalWorkers.embedded(engine, settings, 1)) {
      double ips =
          load.run(
              corpus,
              seconds,
              phase,
              request ->
                  running
                      .embedded()
                      .submit(request, Duration.ofMinutes(1))
                      .whenComplete(
                          (r, t) -> {
                            if (r != null) {
                              load.done(System.nanoTime() - request.enqueuedNanos());
                            } else {
                              load.failed();
                            }
                          }));
      result.pipeline(
          "embedded", ips, load.latency(), running.workers().get(0).stats().meanBatchSize());
    }
    phase.done();
  }

  /**
   * Through the HTTP server on a free port, over embedded workers: for each concurrency, that many
   * callers each post one image and wait for its answer before posting the next.
   */
  private void measureHttp(Pipeline engine, List<byte[]> corpus, BenchResult.Builder result)
      throws Exception {
    try (LocalWorkers running = LocalWorkers.embedded(engine, settings, 1);
        ConveyorServer server =
            new ConveyorServer(
                    ServerConfig.defaults()
                        .withPort(0)
                        .withMaxRequestBytes(settings.get(PipelineSettings.MAX_BYTES)),
                    new EmbeddedClassify(
                        running.embedded(),
                        running.workers(),
                        engine.model().name(),
                        settings.get(PipelineSettings.TOP)))
                .start()) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      URI uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/classify");
      WorkerStats stats = running.workers().get(0).stats();
      for (int callers : http) {
        Phase phase = new Phase("HTTP, " + callers + " callers", seconds + 1);
        PipelineLoad load = new PipelineLoad(callers);
        long batchesBefore = stats.batches();
        long imagesBefore = stats.batchedImages();
        double ips =
            load.run(
                corpus,
                seconds,
                phase,
                request -> {
                  HttpRequest post =
                      HttpRequest.newBuilder(uri)
                          .header("Content-Type", "application/octet-stream")
                          .POST(HttpRequest.BodyPublishers.ofByteArray(request.bytes()))
                          .build();
                  client
                      .sendAsync(post, HttpResponse.BodyHandlers.discarding())
                      .whenComplete(
                          (response, failure) -> {
                            if (response != null && response.statusCode() == 200) {
                              load.done(System.nanoTime() - request.enqueuedNanos());
                            } else {
                              load.failed();
                            }
                          });
                });
        long batches = stats.batches() - batchesBefore;
        long images = stats.batchedImages() - imagesBefore;
        result.http(callers, ips, load.latency(), batches == 0 ? 0 : (double) images / batches);
        phase.done();
      }
    }
  }

  /**
   * End to end through a broker: a worker in this process on {@code transport} and {@code sink},
   * requests sent and results read through {@code client}; latency from making a request to reading
   * its result.
   */
  private void measureThroughBroker(
      Pipeline engine, List<byte[]> corpus, BenchResult.Builder result, String uri)
      throws Exception {
    Broker broker = CommandSettings.broker(spec, uri, Map.of());
    Transport transport = broker.transport(engine.batchSize());
    ResultSink sink = broker.sink();
    ReplyClient client = broker.client();
    Phase phase = new Phase("pipeline", seconds + 1);
    PipelineLoad load = new PipelineLoad(inFlight());
    AtomicBoolean reading = new AtomicBoolean(true);
    Map<String, Long> madeAt = new ConcurrentHashMap<>();
    Worker worker = new Worker(Pipelines.workerConfig(settings), engine, transport, sink).start();
    try (client) {
      Thread reader =
          new Thread(
              () -> {
                while (reading.get()) {
                  client.poll(
                      r -> {
                        Long made = madeAt.remove(r.id());
                        if (made != null) {
                          load.done(System.nanoTime() - made);
                        }
                      });
                }
              },
              "conveyor-bench-results");
      reader.start();
      double ips =
          load.run(
              corpus,
              seconds,
              phase,
              request -> {
                madeAt.put(request.id(), request.enqueuedNanos());
                client.send(request, Duration.ofMinutes(1));
              });
      reading.set(false);
      reader.join();
      result.pipeline(client.name(), ips, load.latency(), worker.stats().meanBatchSize());
    } finally {
      worker.close();
      transport.close();
      sink.close();
    }
    phase.done();
  }

  /** A progress bar on stderr for one timed measurement. */
  static final class Phase {
    private final me.tongfei.progressbar.ProgressBar bar;
    private final long start = System.nanoTime();

    Phase(String name, double seconds) {
      bar = Progress.bar(name, Math.round(seconds * 10), "s", 10, false);
    }

    static void say(String what) {
      System.err.println(what + " …");
    }

    void tick() {
      bar.stepTo(Math.min(bar.getMax(), (System.nanoTime() - start) / 100_000_000L));
    }

    void done() {
      bar.stepTo(bar.getMax());
      bar.close();
    }
  }
}
