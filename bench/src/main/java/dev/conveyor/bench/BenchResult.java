package dev.conveyor.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.conveyor.core.decode.ImageDecoder;
import java.util.List;
import java.util.Locale;
import org.HdrHistogram.Histogram;

/**
 * What a bench run measured, in images per second, and the two ways it is reported: a markdown
 * table for people and one JSON object for scripts comparing runs. Every stage is also given as a
 * fraction of the raw model, the limit measured in the same run.
 *
 * @param preprocessIpsOneThread decoding and preprocessing on one thread
 * @param decodeIpsOneThread decoding alone on one thread, as preprocessing decodes (reduced when
 *     the resize allows): the decoder's part of the preprocessing cost
 * @param latency the pipeline's latencies in microseconds
 * @param pipelineName what carried the pipeline stage: {@code embedded}, {@code redis stream}, …
 * @param http the HTTP server's results, one per number of callers, in the order run
 * @param engines the engine's job, one per source it read
 * @param cpu CPU time per image of each stage
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
    double decodeIpsOneThread,
    double pipelineIps,
    double meanBatch,
    Histogram latency,
    String pipelineName,
    List<HttpLevel> http,
    List<EngineLevel> engines,
    Cpu cpu) {

  /**
   * CPU time per image of each stage, in milliseconds, from the process's own accounting (every
   * thread, native ones included), which does not move with what else shares the machine.
   *
   * @param raw the model alone
   * @param preprocess decoding and preprocessing, on the preprocessing threads
   * @param pipeline the worker end to end: this process less the load's own threads (the sender,
   *     the result reader, the broker client's threads), or the worker processes elsewhere
   */
  public record Cpu(
      @JsonProperty("raw_ms") double raw,
      @JsonProperty("preprocess_ms") double preprocess,
      @JsonProperty("pipeline_ms") double pipeline) {
    /**
     * What the worker spends per image over what the model and preprocessing need: 1.0 is no
     * overhead at all.
     */
    @JsonProperty("overhead")
    public double overhead() {
      return pipeline / (raw + preprocess);
    }
  }

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
      @JsonProperty("mean_batch") double meanBatch,
      @JsonProperty("cpu_ms") double cpuMs,
      @JsonProperty("overhead") double overhead) {}

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
        round(decodeIpsOneThread),
        round(pipelineIps),
        Math.round(ratio() * 1000) / 1000.0,
        round(latencyMs(50)),
        round(latencyMs(99)),
        round(meanBatch),
        ImageDecoder.jpegDecoderName(),
        http.isEmpty() ? null : http,
        engines.isEmpty() ? null : engines,
        new Cpu(round3(cpu.raw()), round3(cpu.preprocess()), round3(cpu.pipeline())));
  }

  /** The JSON form of a result; its keys are what scripts read, so they do not change. */
  public record Json(
      String model,
      int batch,
      int cores,
      @JsonProperty("raw_ips") double rawIps,
      @JsonProperty("preprocess_ips") double preprocessIps,
      @JsonProperty("preprocess_ips_1t") double preprocessIpsOneThread,
      @JsonProperty("decode_ips_1t") double decodeIpsOneThread,
      @JsonProperty("pipeline_ips") double pipelineIps,
      double ratio,
      @JsonProperty("p50_ms") double p50Ms,
      @JsonProperty("p99_ms") double p99Ms,
      @JsonProperty("mean_batch") double meanBatch,
      @JsonProperty("jpeg_decoder") String jpegDecoder,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<HttpLevel> http,
      @JsonInclude(JsonInclude.Include.NON_NULL) List<EngineLevel> engines,
      Cpu cpu) {}

  /** Rounded to one decimal, as the JSON gives numbers. */
  static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  /** Rounded to three decimals, as the JSON gives CPU milliseconds and ratios. */
  static double round3(double v) {
    return Math.round(v * 1000) / 1000.0;
  }

  /** The markdown table: each stage against the raw model, then the latencies and HTTP loads. */
  public String markdown() {
    String threads = modelThreads > 0 ? Integer.toString(modelThreads) : "default";
    StringBuilder s = new StringBuilder();
    s.append(
        "## conveyor bench: %s, batch %d, %d cores%n%n"
            .formatted(model, batch, Runtime.getRuntime().availableProcessors()));
    s.append("| stage | images/s | × raw model | CPU ms/image |\n|---|---:|---:|---:|\n");
    row(
        s,
        "raw model: tensors in memory, batch %d, %s threads".formatted(batch, threads),
        rawIps,
        cpu.raw());
    row(
        s,
        "decode + preprocess, %d threads".formatted(preprocessThreads),
        preprocessIps,
        cpu.preprocess());
    row(s, "decode + preprocess, 1 thread", preprocessIpsOneThread, Double.NaN);
    row(s, "decode only, 1 thread", decodeIpsOneThread, Double.NaN);
    row(s, "**pipeline: %s, end to end**".formatted(pipelineName), pipelineIps, cpu.pipeline());
    s.append(
        "%nlatency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms; mean batch %s; %d distinct images%n"
            .formatted(
                latencyMs(50),
                latencyMs(90),
                latencyMs(99),
                Double.isNaN(meanBatch)
                    ? "unknown (workers elsewhere)"
                    : "%.1f".formatted(meanBatch),
                images));
    s.append(
        String.format(
            Locale.ROOT,
            "%nworker overhead in CPU time: %.3f ms per image ÷ (model %.3f + preprocess %.3f) ="
                + " **%.2f**%n",
            cpu.pipeline(),
            cpu.raw(),
            cpu.preprocess(),
            cpu.overhead()));
    if (!http.isEmpty()) {
      s.append(
          "\n### HTTP: POST /v1/classify, each caller waiting for its answer\n\n"
              + "| callers | images/s | × raw model | p50 ms | p99 ms | mean batch | CPU ms/image"
              + " | overhead |\n"
              + "|---:|---:|---:|---:|---:|---:|---:|---:|\n");
      for (HttpLevel h : http) {
        s.append(
            String.format(
                Locale.ROOT,
                "| %d | %.1f | %.2f | %.1f | %.1f | %.1f | %.3f | %.2f |%n",
                h.concurrency(),
                h.ips(),
                h.ratio(),
                h.p50Ms(),
                h.p99Ms(),
                h.meanBatch(),
                h.cpuMs(),
                h.overhead()));
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

  private void row(StringBuilder s, String stage, double ips, double cpuMs) {
    s.append(
        String.format(
            Locale.ROOT,
            "| %s | %.1f | %.2f | %s |%n",
            stage,
            ips,
            ips / rawIps,
            Double.isNaN(cpuMs) ? "" : String.format(Locale.ROOT, "%.3f", cpuMs)));
  }
}
