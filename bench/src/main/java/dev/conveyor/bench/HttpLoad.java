package dev.conveyor.bench;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.worker.WorkerStats;
import dev.conveyor.server.ServerConfig;
import dev.conveyor.server.ServerSettings;
import dev.conveyor.server.Serving;
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
  private final Serving serving;
  private final HttpClient client =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final URI uri;

  private HttpLoad(BenchPlan plan, Serving serving) {
    this.plan = plan;
    this.serving = serving;
    this.uri = URI.create("http://127.0.0.1:" + serving.port() + "/v1/classify");
  }

  /** Starts the workers and the server for the plan's pipeline. */
  static HttpLoad start(BenchPlan plan) {
    ServerConfig config =
        ServerSettings.defaults()
            .withPort(0)
            .withMaxRequestBytes(plan.settings().get(PipelineSettings.MAX_BYTES));
    return new HttpLoad(plan, Serving.embedded(config, plan.pipeline(), plan.settings(), 1));
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
    WorkerStats stats = serving.workers().get(0).stats();
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
    serving.close();
  }
}
