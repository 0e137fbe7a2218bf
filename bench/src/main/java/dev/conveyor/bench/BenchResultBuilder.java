package dev.conveyor.bench;

import java.util.ArrayList;
import java.util.List;

/** Collects a run's measurements as {@link Bench} makes them, into one {@link BenchResult}. */
final class BenchResultBuilder {
  private final String model;
  private final int batch;
  private final int images;
  private int modelThreads;
  private int preprocessThreads;
  private Rate raw;
  private Rate preprocess;
  private double preprocessOne;
  private double decodeOne;
  private Measured pipeline;
  private final List<BenchResult.HttpLevel> http = new ArrayList<>();
  private final List<BenchResult.EngineLevel> engines = new ArrayList<>();

  BenchResultBuilder(String model, int batch, int images) {
    this.model = model;
    this.batch = batch;
    this.images = images;
  }

  void threads(int model, int preprocess) {
    this.modelThreads = model;
    this.preprocessThreads = preprocess;
  }

  void raw(Rate rate) {
    raw = rate;
  }

  void preprocess(Rate rate) {
    preprocess = rate;
  }

  void preprocessOneThread(double ips) {
    preprocessOne = ips;
  }

  void decodeOneThread(double ips) {
    decodeOne = ips;
  }

  void pipeline(Measured measured) {
    this.pipeline = measured;
  }

  void http(int concurrency, Measured m) {
    http.add(
        new BenchResult.HttpLevel(
            concurrency,
            BenchResult.round(m.ips()),
            BenchResult.round3(m.ips() / raw.ips()),
            BenchResult.round(m.latency().getValueAtPercentile(50) / 1000.0),
            BenchResult.round(m.latency().getValueAtPercentile(99) / 1000.0),
            BenchResult.round(m.meanBatch()),
            BenchResult.round3(m.cpuMsPerImage()),
            BenchResult.round3(cpu(m).overhead())));
  }

  /** The CPU time per image of the stages, with {@code m}'s as the worker's. */
  private BenchResult.Cpu cpu(Measured m) {
    return new BenchResult.Cpu(raw.cpuMsPerImage(), preprocess.cpuMsPerImage(), m.cpuMsPerImage());
  }

  void engine(BenchResult.EngineLevel level) {
    engines.add(level);
  }

  BenchResult build() {
    return new BenchResult(
        model,
        batch,
        images,
        modelThreads,
        preprocessThreads,
        raw.ips(),
        preprocess.ips(),
        preprocessOne,
        decodeOne,
        pipeline.ips(),
        pipeline.meanBatch(),
        pipeline.latency(),
        pipeline.name(),
        List.copyOf(http),
        List.copyOf(engines),
        cpu(pipeline));
  }
}
