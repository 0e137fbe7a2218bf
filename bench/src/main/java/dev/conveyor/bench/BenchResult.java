package dev.conveyor.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.conveyor.core.image.ImageDecoder;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * What a bench run measured, in images per second, and the two ways it is reported: a markdown
 * table for people and one JSON object for scripts comparing runs. Every stage is also given as a
 * fraction of the raw model, the limit measured in the same run.
 *
 * @param latency the pipeline's latencies in microseconds
 * @param pipelineName what carried the pipeline stage: {@code embedded}, {@code redis stream}, …
 * @param http the HTTP server's results, one per number of callers, in the order run
 * @param engines the engine's job, one per source it read
 */
public record BenchResult(
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
    List<HttpLevel> http,
    List<EngineLevel> engines) {

  /**
   * The same pipeline as a job on a stream engine ({@code flink}), on an embedded cluster in this
   * process: from {@code source} to {@code sink}, {@code images} in all, with its throughput while
   * results came (start-up left out) against the raw model's and the pipeline's.
   */
  public record EngineLevel(
      String engine,
      int parallelism,
      String source,
      String sink,
      int images,
      @JsonProperty("ips") double ips,
      @JsonProperty("ratio") double ratio,
      @JsonProperty("vs_pipeline") double vsPipeline,
      @JsonProperty("seconds") double seconds) {}

  /** The HTTP server loaded by {@code concurrency} callers, each waiting for its answer. */
  public record HttpLevel(
      int concurrency,
      @JsonProperty("ips") double ips,
      @JsonProperty("ratio") double ratio,
      @JsonProperty("p50_ms") double p50Ms,
      @JsonProperty("p99_ms") double p99Ms,
      @JsonProperty("mean_batch") double meanBatch) {}

  /** The pipeline's throughput as a fraction of the raw model's. */
  public double ratio() {
    return pipelineIps / rawIps;
  }

  /** The pipeline's latency at {@code percentile} (0 to 100), in milliseconds. */
  public double latencyMs(double percentile) {
    return latency.getValueAtPercentile(percentile) / 1000.0;
  }

  /** The JSON line: throughputs in images per second, latencies in milliseconds. */
  public Json json() {
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
        http.isEmpty() ? null : http,
        engines.isEmpty() ? null : engines);
  }

  /** The JSON form of a result; its keys are what scripts read, so they do not change. */
  public record Json(
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
      @JsonInclude(JsonInclude.Include.NON_NULL) List<HttpLevel> http,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<EngineLevel> engines) {}

  /** Rounded to one decimal, as the JSON gives numbers. */
  static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  /** The markdown table: each stage against the raw model, then the latencies and HTTP loads. */
  public String markdown() {
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
      for (HttpLevel h : http) {
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
    if (!engines.isEmpty()) {
      EngineLevel first = engines.get(0);
      s.append(
          "%n### %s: the same pipeline as a job on an embedded cluster, %d parallel tasks%n%n"
              .formatted(first.engine(), first.parallelism()));
      s.append(
          "| source → sink | images | images/s | × raw model | × pipeline | job seconds |\n"
              + "|---|---:|---:|---:|---:|---:|\n");
      for (EngineLevel e : engines) {
        s.append(
            String.format(
                Locale.ROOT,
                "| %s → %s | %d | %.1f | %.2f | %.2f | %.1f |%n",
                e.source(),
                e.sink(),
                e.images(),
                e.ips(),
                e.ratio(),
                e.vsPipeline(),
                e.seconds()));
      }
    }
    return s.toString();
  }

  private void row(StringBuilder s, String stage, double ips) {
    s.append(String.format(Locale.ROOT, "| %s | %.1f | %.2f |%n", stage, ips, ips / rawIps));
  }
}
