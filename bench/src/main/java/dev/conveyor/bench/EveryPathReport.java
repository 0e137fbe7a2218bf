package dev.conveyor.bench;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Locale;

/**
 * What {@link EveryPath#run} measured: the raw model at the start (what every row is against) and
 * at the end, preprocessing, and a row per path.
 *
 * @param cores the processors this process saw
 */
public record EveryPathReport(
    String model,
    int batch,
    int images,
    int cores,
    Rate raw,
    Rate rawAtEnd,
    Rate preprocess,
    List<Row> rows) {

  public EveryPathReport {
    rows = List.copyOf(rows);
  }

  /**
   * One path: results per second and against the raw model, the CPU time per image of what carried
   * it (the workers, the server, the engine's process), that against the model's and
   * preprocessing's own CPU time per image, and the latency and mean batch where the path has them
   * (null where not: an engine's job, a worker elsewhere).
   *
   * @param overhead CPU per image ÷ (the model's + preprocessing's CPU per image): 1.00 is a path
   *     that costs nothing beyond the model and decoding
   */
  public record Row(
      String path,
      @JsonProperty("ips") double ips,
      @JsonProperty("ratio") double ratio,
      @JsonProperty("cpu_ms") double cpuMs,
      @JsonProperty("overhead") double overhead,
      @JsonProperty("p50_ms") @JsonInclude(JsonInclude.Include.NON_NULL) Double p50Ms,
      @JsonProperty("p99_ms") @JsonInclude(JsonInclude.Include.NON_NULL) Double p99Ms,
      @JsonProperty("mean_batch") @JsonInclude(JsonInclude.Include.NON_NULL) Double meanBatch) {

    static Row of(String path, Measured m, double rawIps, double modelAndPreprocessMs) {
      return new Row(
          path,
          BenchResult.round(m.ips()),
          BenchResult.round3(m.ips() / rawIps),
          BenchResult.round3(m.cpuMsPerImage()),
          BenchResult.round3(m.cpuMsPerImage() / modelAndPreprocessMs),
          BenchResult.round(m.latency().getValueAtPercentile(50) / 1000.0),
          BenchResult.round(m.latency().getValueAtPercentile(99) / 1000.0),
          Double.isNaN(m.meanBatch()) ? null : BenchResult.round(m.meanBatch()));
    }

    static Row of(EngineRun run, double rawIps, double modelAndPreprocessMs) {
      return new Row(
          run.path(),
          run.ips(),
          BenchResult.round3(run.ips() / rawIps),
          run.cpuMs(),
          BenchResult.round3(run.cpuMs() / modelAndPreprocessMs),
          null,
          null,
          null);
    }
  }

  /** The markdown table, each row against the raw model measured at the start. */
  public String markdown() {
    StringBuilder s = new StringBuilder();
    s.append(
        "## conveyor bench --every-path: %s, batch %d, %d images, %d cores%n%n"
            .formatted(model, batch, images, cores));
    s.append(
        "| path | images/s | × raw | CPU ms/image | CPU × (model + preprocessing) | p50 | p99 |"
            + " mean batch |\n|---|---:|---:|---:|---:|---:|---:|---:|\n");
    s.append(
        "| raw model: tensors in memory | %s | 1.00 | %s | | | | %d |%n"
            .formatted(num(raw.ips(), 1), num(raw.cpuMsPerImage(), 2), batch));
    s.append(
        "| preprocessing alone | %s | | %s | | | | |%n"
            .formatted(num(preprocess.ips(), 1), num(preprocess.cpuMsPerImage(), 2)));
    for (Row r : rows) {
      s.append(
          "| %s | %s | **%s** | %s | %s | %s | %s | %s |%n"
              .formatted(
                  r.path(),
                  num(r.ips(), 1),
                  num(r.ratio(), 2),
                  num(r.cpuMs(), 2),
                  num(r.overhead(), 2),
                  ms(r.p50Ms()),
                  ms(r.p99Ms()),
                  num(r.meanBatch(), 1)));
    }
    s.append(
        "%nThe raw model did %s images/s at the start of the run and %s at the end (%s).%n"
            .formatted(
                num(raw.ips(), 1),
                num(rawAtEnd.ips(), 1),
                String.format(Locale.ROOT, "%+.0f%%", 100 * (rawAtEnd.ips() / raw.ips() - 1))));
    return s.toString();
  }

  /** The JSON form. */
  public Json json() {
    return new Json(
        model,
        batch,
        images,
        cores,
        BenchResult.round(raw.ips()),
        BenchResult.round(rawAtEnd.ips()),
        BenchResult.round3(raw.cpuMsPerImage()),
        BenchResult.round(preprocess.ips()),
        BenchResult.round3(preprocess.cpuMsPerImage()),
        rows);
  }

  /** The JSON line: throughputs in images per second, times in milliseconds. */
  public record Json(
      String model,
      int batch,
      int images,
      int cores,
      @JsonProperty("raw_ips") double rawIps,
      @JsonProperty("raw_ips_at_end") double rawIpsAtEnd,
      @JsonProperty("raw_cpu_ms") double rawCpuMs,
      @JsonProperty("preprocess_ips") double preprocessIps,
      @JsonProperty("preprocess_cpu_ms") double preprocessCpuMs,
      List<Row> paths) {}

  private static String num(Double v, int decimals) {
    return v == null || Double.isNaN(v) ? "" : String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  private static String ms(Double v) {
    if (v == null) {
      return "";
    }
    return v >= 1000
        ? String.format(Locale.ROOT, "%.2f s", v / 1000)
        : String.format(Locale.ROOT, "%.0f ms", v);
  }
}
