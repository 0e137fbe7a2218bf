package dev.conveyor.cli;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.conveyor.core.image.ImageDecoder;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/** What {@code conveyor bench} measured, and how it is printed. */
record BenchResult(
    String model,
    int batch,
    int images,
    int modelThreads,
    int preprocessThreads,
    double rawIps,
    double preprocessIps,
    double preprocessIpsOneThread,
    double pipelineIps,
    double meanBatch,
    Histogram latency,
    String pipelineName,
    List<HttpLoad> http) {

  /** The HTTP server loaded by {@code concurrency} callers, each waiting for its answer. */
  record HttpLoad(
      int concurrency,
      @JsonProperty("ips") double ips,
      @JsonProperty("ratio") double ratio,
      @JsonProperty("p50_ms") double p50Ms,
      @JsonProperty("p99_ms") double p99Ms,
      @JsonProperty("mean_batch") double meanBatch) {}

  double ratio() {
    return pipelineIps / rawIps;
  }

  double latencyMs(double percentile) {
    return latency.getValueAtPercentile(percentile) / 1000.0;
  }

  /** The JSON line: throughputs in images per second, latencies in milliseconds. */
  Json json() {
    return new Json(
        model,
        batch,
        Runtime.getRuntime().availableProcessors(),
        round(rawIps),
        round(preprocessIps),
        round(preprocessIpsOneThread),
        round(pipelineIps),
        Math.round(ratio() * 1000) / 1000.0,
        round(latencyMs(50)),
        round(latencyMs(99)),
        round(meanBatch),
        ImageDecoder.jpegDecoderName(),
        http.isEmpty() ? null : http);
  }

  record Json(
      String model,
      int batch,
      int cores,
      @JsonProperty("raw_ips") double rawIps,
      @JsonProperty("preprocess_ips") double preprocessIps,
      @JsonProperty("preprocess_ips_1t") double preprocessIpsOneThread,
      @JsonProperty("pipeline_ips") double pipelineIps,
      double ratio,
      @JsonProperty("p50_ms") double p50Ms,
      @JsonProperty("p99_ms") double p99Ms,
      @JsonProperty("mean_batch") double meanBatch,
      @JsonProperty("jpeg_decoder") String jpegDecoder,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<HttpLoad> http) {}

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  String markdown() {
    String threads = modelThreads > 0 ? Integer.toString(modelThreads) : "default";
    StringBuilder s = new StringBuilder();
    s.append(
        "## conveyor bench: %s, batch %d, %d cores%n%n"
            .formatted(model, batch, Runtime.getRuntime().availableProcessors()));
    s.append("| stage | images/s | × raw model |\n|---|---:|---:|\n");
    row(s, "raw model: tensors in memory, batch %d, %s threads".formatted(batch, threads), rawIps);
    row(s, "decode + preprocess, %d threads".formatted(preprocessThreads), preprocessIps);
    row(s, "decode + preprocess, 1 thread", preprocessIpsOneThread);
    row(s, "**pipeline: %s, end to end**".formatted(pipelineName), pipelineIps);
    s.append(
        "%nlatency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms; mean batch %.1f; %d distinct images%n"
            .formatted(latencyMs(50), latencyMs(90), latencyMs(99), meanBatch, images));
    if (!http.isEmpty()) {
      s.append(
          "\n### HTTP: POST /v1/classify, each caller waiting for its answer\n\n"
              + "| callers | images/s | × raw model | p50 ms | p99 ms | mean batch |\n"
              + "|---:|---:|---:|---:|---:|---:|\n");
      for (HttpLoad h : http) {
        s.append(
            String.format(
                Locale.ROOT,
                "| %d | %.1f | %.2f | %.1f | %.1f | %.1f |%n",
                h.concurrency(),
                h.ips(),
                h.ratio(),
                h.p50Ms(),
                h.p99Ms(),
                h.meanBatch()));
      }
    }
    return s.toString();
  }

  private void row(StringBuilder s, String stage, double ips) {
    s.append(String.format(Locale.ROOT, "| %s | %.1f | %.2f |%n", stage, ips, ips / rawIps));
  }

  /** Collects the measurements as they are made. */
  static final class Builder {
    private final String model;
    private final int batch;
    private final int images;
    private int modelThreads;
    private int preprocessThreads;
    private double raw;
    private double preprocess;
    private double preprocessOne;
    private double pipeline;
    private double meanBatch;
    private Histogram latency;
    private String pipelineName = "embedded";
    private final List<HttpLoad> http = new ArrayList<>();

    Builder(String model, int batch, int images) {
      this.model = model;
      this.batch = batch;
      this.images = images;
    }

    void threads(int model, int preprocess) {
      this.modelThreads = model;
      this.preprocessThreads = preprocess;
    }

    void raw(double ips) {
      raw = ips;
    }

    void preprocess(double ips) {
      preprocess = ips;
    }

    void preprocessOneThread(double ips) {
      preprocessOne = ips;
    }

    void pipeline(String name, double ips, Histogram latency, double meanBatch) {
      this.pipelineName = name;
      this.pipeline = ips;
      this.latency = latency;
      this.meanBatch = meanBatch;
    }

    void http(int concurrency, double ips, Histogram latency, double meanBatch) {
      http.add(
          new HttpLoad(
              concurrency,
              round(ips),
              Math.round(ips / raw * 1000) / 1000.0,
              round(latency.getValueAtPercentile(50) / 1000.0),
              round(latency.getValueAtPercentile(99) / 1000.0),
              round(meanBatch)));
    }

    BenchResult build() {
      return new BenchResult(
          model,
          batch,
          images,
          modelThreads,
          preprocessThreads,
          raw,
          preprocess,
          preprocessOne,
          pipeline,
          meanBatch,
          latency,
          pipelineName,
          List.copyOf(http));
    }
  }
}
