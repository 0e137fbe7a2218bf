package dev.conveyor.bench;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One engine job as measured ({@code conveyor bench --engine flink}): {@code images} from {@code
 * source} to {@code sink} on {@code parallelism} tasks; the images per second and the CPU time per
 * image (of the whole process that ran it, in milliseconds) that it took beyond a job of a fifth of
 * the images run after a warm-up job, which leaves out what every job costs once; and its seconds
 * from start to end. What it is against the raw model is {@link BenchResult.EngineLevel}'s; a run
 * measured in another process comes back as this, as one JSON line.
 */
public record EngineRun(
    String engine,
    int parallelism,
    String source,
    String sink,
    int images,
    @JsonProperty("ips") double ips,
    @JsonProperty("seconds") double seconds,
    @JsonProperty("cpu_ms") double cpuMs) {

  /** A short name for tables: {@code flink, folder → files, 2 tasks}. */
  public String path() {
    return "%s, %s → %s, %d task%s"
        .formatted(engine, source, sink, parallelism, parallelism == 1 ? "" : "s");
  }

  /** This run against the raw model's and the pipeline's throughput in the same bench run. */
  BenchResult.EngineLevel against(double rawIps, double pipelineIps) {
    return new BenchResult.EngineLevel(
        engine,
        parallelism,
        source,
        sink,
        images,
        ips,
        Math.round(ips / rawIps * 1000) / 1000.0,
        Math.round(ips / pipelineIps * 1000) / 1000.0,
        seconds);
  }
}
