package dev.conveyor.bench;

import dev.conveyor.assembly.LocalWorkers;
import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.worker.WorkerStats;
import dev.conveyor.server.ConveyorServer;
import dev.conveyor.server.EmbeddedClassify;
import dev.conveyor.server.ServerConfig;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

/**
 * The HTTP server on a free loopback port over embedded workers, loaded by a given number of
 * callers, each posting one image to {@code /v1/classify} and waiting for its answer before posting
 * the next: what a synchronous client sees, at each concurrency. Closing stops the server and the
 * workers.
 */
final class HttpLoad implements AutoCloseable {
  private final BenchPlan plan;
  private final LocalWorkers running;
  private final ConveyorServer server;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final URI uri;

  private HttpLoad(BenchPlan plan, LocalWorkers running, ConveyorServer server) {
    this.plan = plan;
    this.running = running;
    this.server = server;
    this.uri = URI.create("http://127.0.0.1:" + server.port() + "/v1/classify");
  }

  /** Starts the workers and the server for the plan's pipeline. */
  static HttpLoad start(BenchPlan plan) {
    LocalWorkers running = LocalWorkers.embedded(plan.pipeline(), plan.settings(), 1);
    try {
      ServerConfig config =
          ServerConfig.defaults()
              .withPort(0)
              .withMaxRequestBytes(plan.settings().get(PipelineSettings.MAX_BYTES));
      EmbeddedClassify classify =
          new EmbeddedClassify(
              running.embedded(),
              running.workers(),
              plan.pipeline().model().name(),
              plan.settings().get(PipelineSettings.TOP));
      return new HttpLoad(plan, running, new ConveyorServer(config, classify).start());
    } catch (RuntimeException e) {
      running.close();
      throw e;
    }
  }

  /** Where images are posted. */
  URI uri() {
    return uri;
  }

  /** Answered calls per second with {@code callers} callers, and the batches they made. */
  Measured measure(int callers) throws Exception {
    Phase phase = new Phase("HTTP, " + callers + " callers", plan.seconds() + 1);
    // the client's threads (its selector and workers) are the load's, not the server's
    PipelineLoad load =
        PipelineLoad.inThisProcess(callers, () -> CpuTime.threadsNamed("HttpClient-"));
    WorkerStats stats = running.workers().get(0).stats();
    long batchesBefore = stats.batches();
    long imagesBefore = stats.batchedImages();
    double ips =
        load.run(
            plan.corpus(),
            plan.seconds(),
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
    phase.done();
    return load.measured("HTTP", ips, batches == 0 ? 0 : (double) images / batches);
  }

  @Override
  public void close() {
    try {
      server.close();
    } finally {
      running.close();
    }
  }
}
