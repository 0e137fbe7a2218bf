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
  private double raw;
  private double preprocess;
  private double preprocessOne;
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

  void raw(double ips) {
    raw = ips;
  }

  void preprocess(double ips) {
    preprocess = ips;
  }

  void preprocessOneThread(double ips) {
    preprocessOne = ips;
  }

  void pipeline(Measured measured) {
    this.pipeline = measured;
  }

  void http(int concurrency, Measured m) {
    http.add(
        new BenchResult.HttpLevel(
            concurrency,
            BenchResult.round(m.ips()),
            Math.round(m.ips() / raw * 1000) / 1000.0,
            BenchResult.round(m.latency().getValueAtPercentile(50) / 1000.0),
            BenchResult.round(m.latency().getValueAtPercentile(99) / 1000.0),
            BenchResult.round(m.meanBatch())));
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
        raw,
        preprocess,
        preprocessOne,
        pipeline.ips(),
        pipeline.meanBatch(),
        pipeline.latency(),
        pipeline.name(),
        List.copyOf(http),
        List.copyOf(engines));
  }
}
