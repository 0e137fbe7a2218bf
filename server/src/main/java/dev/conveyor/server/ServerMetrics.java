package dev.conveyor.server;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.worker.WorkerListener;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * The server's Prometheus metrics, every one labelled with the model (a result's own, or the one a
 * request named when the server serves it, else the server's), results also with the model's
 * version: HTTP requests by endpoint and status, HTTP and per-image latency histograms, batch
 * sizes, queue depth and requests in flight, results by worker and errors by code. It learns of the
 * pipeline as a {@link WorkerListener}, and of HTTP requests from {@link #http}.
 */
final class ServerMetrics implements WorkerListener {
  static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private static final double[] LATENCY_BOUNDS = {
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30
  };
  private static final double[] BATCH_BOUNDS = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};

  private final PrometheusRegistry registry = new PrometheusRegistry();
  private final PrometheusTextFormatWriter writer = new PrometheusTextFormatWriter(false);
  private final String model;
  private final java.util.function.Predicate<String> served;
  private final Counter httpRequests;
  private final Histogram httpSeconds;
  private final Histogram resultSeconds;
  private final Counter results;
  private final Counter errors;
  private final Histogram batchSize;
  private final Histogram batchSeconds;
  private final AtomicInteger inFlight = new AtomicInteger();

  /**
   * @param served whether a name that a request gives is a model this server serves: only those
   *     become label values, so that callers cannot make series up
   */
  ServerMetrics(String model, IntSupplier queueDepth, java.util.function.Predicate<String> served) {
    this.model = model;
    this.served = served;
    // process_resident_memory_bytes, jvm_memory_used_bytes, GC, threads: what a soak watches
    JvmMetrics.builder().register(registry);
    httpRequests =
        Counter.builder()
            .name("conveyor_http_requests")
            .help("HTTP requests answered, by endpoint and status")
            .labelNames("model", "endpoint", "status")
            .register(registry);
    httpSeconds =
        Histogram.builder()
            .name("conveyor_http_request_duration_seconds")
            .help("Time to answer an HTTP request, by endpoint")
            .labelNames("model", "endpoint")
            .classicOnly()
            .classicUpperBounds(LATENCY_BOUNDS)
            .register(registry);
    resultSeconds =
        Histogram.builder()
            .name("conveyor_result_latency_seconds")
            .help("Time from an image's arrival to its result, by the model's version")
            .labelNames("model", "version")
            .classicOnly()
            .classicUpperBounds(LATENCY_BOUNDS)
            .register(registry);
    results =
        Counter.builder()
            .name("conveyor_results")
            .help("Results, by the model's version, the worker that made them and their status")
            .labelNames("model", "version", "worker", "status")
            .register(registry);
    errors =
        Counter.builder()
            .name("conveyor_errors")
            .help("Error results and refused requests, by code")
            .labelNames("model", "code")
            .register(registry);
    batchSize =
        Histogram.builder()
            .name("conveyor_batch_size")
            .help("Images per model call, by workers in this process")
            .labelNames("model")
            .classicOnly()
            .classicUpperBounds(BATCH_BOUNDS)
            .register(registry);
    batchSeconds =
        Histogram.builder()
            .name("conveyor_batch_seconds")
            .help("Time of one model call, by workers in this process")
            .labelNames("model")
            .classicOnly()
            .classicUpperBounds(LATENCY_BOUNDS)
            .register(registry);
    GaugeWithCallback.builder()
        .name("conveyor_queue_depth")
        .help("Requests waiting for a worker (with a broker: this server's, not yet answered)")
        .labelNames("model")
        .callback(cb -> cb.call(queueDepth.getAsInt(), model))
        .register(registry);
    GaugeWithCallback.builder()
        .name("conveyor_in_flight")
        .help("Images accepted by this server and not yet answered")
        .labelNames("model")
        .callback(cb -> cb.call(inFlight.get(), model))
        .register(registry);
  }

  void http(String endpoint, int status, long nanos) {
    httpRequests.labelValues(model, endpoint, Integer.toString(status)).inc();
    httpSeconds.labelValues(model, endpoint).observe(nanos / 1e9);
  }

  @Override
  public void submitted(ImageRequest request) {
    inFlight.incrementAndGet();
  }

  @Override
  public void result(ImageRequest request, ClassifyResult r, long nanos) {
    inFlight.decrementAndGet();
    String m = r.model() != null ? r.model() : modelOf(request);
    String version = r.version() == null ? "" : Long.toString(r.version());
    resultSeconds.labelValues(m, version).observe(nanos / 1e9);
    String worker = r.host() == null ? "" : r.host();
    results.labelValues(m, version, worker, r.isOk() ? "ok" : "error").inc();
    if (!r.isOk()) {
      errors.labelValues(m, r.error().code().name()).inc();
    }
  }

  /** The model a request named, when this server serves it; else the server's own. */
  private String modelOf(ImageRequest request) {
    String named = request.model();
    return named != null && served.test(named) ? named : model;
  }

  /** A request answered without a result (busy, timed out, broker down). */
  @Override
  public void refused(ImageRequest request, ErrorCode code) {
    inFlight.decrementAndGet();
    errors.labelValues(modelOf(request), code.name()).inc();
  }

  @Override
  public void batch(int images, long nanos) {
    batchSize.labelValues(model).observe(images);
    batchSeconds.labelValues(model).observe(nanos / 1e9);
  }

  /** The metrics in Prometheus's text format. */
  byte[] scrape() {
    ByteArrayOutputStream out = new ByteArrayOutputStream(8192);
    try {
      writer.write(out, registry.scrape());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
