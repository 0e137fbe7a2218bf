package dev.conveyor.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.HdrHistogram.HistogramIterationValue;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.knowm.xchart.style.Styler;

/**
 * The PNG of a bench run: throughput per stage beside the pipeline's latency distribution, so a run
 * can be read at a glance and shown in documents.
 */
public final class BenchChart {
  private BenchChart() {}

  /**
   * Writes the chart of {@code r} to {@code png}, making its folder if needed.
   *
   * @throws UncheckedIOException when the file cannot be written
   */
  public static void write(BenchResult r, Path png) {
    CategoryChart throughput =
        new CategoryChartBuilder()
            .width(640)
            .height(420)
            .title(
                "%s, batch %d: pipeline at %.0f%% of the model"
                    .formatted(r.model(), r.batch(), 100 * r.ratio()))
            .yAxisTitle("images / s")
            .build();
    throughput.getStyler().setLegendVisible(false);
    throughput.getStyler().setLabelsVisible(true);
    throughput.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    List<String> stages =
        new ArrayList<>(List.of("raw model", "preprocess", "preprocess 1t", "pipeline"));
    List<Double> ips =
        new ArrayList<>(
            List.of(r.rawIps(), r.preprocessIps(), r.preprocessIpsOneThread(), r.pipelineIps()));
    for (BenchResult.HttpLevel h : r.http()) {
      stages.add("HTTP c" + h.concurrency());
      ips.add(h.ips());
    }
    for (BenchResult.EngineLevel e : r.engines()) {
      stages.add(e.engine() + " " + e.source());
      ips.add(e.ips());
    }
    throughput.addSeries(
        "images/s", stages, ips.stream().map(v -> (double) Math.round(v)).toList());

    XYChart latency =
        new XYChartBuilder()
            .width(640)
            .height(420)
            .title(
                "pipeline latency: p50 %.1f ms, p99 %.1f ms"
                    .formatted(r.latencyMs(50), r.latencyMs(99)))
            .xAxisTitle("percentile")
            .yAxisTitle("ms")
            .build();
    latency.getStyler().setLegendVisible(false);
    latency
        .getStyler()
        .setDefaultSeriesRenderStyle(org.knowm.xchart.XYSeries.XYSeriesRenderStyle.Line);
    latency.getStyler().setMarkerSize(0);
    latency.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    latency.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    List<Double> pct = new ArrayList<>();
    List<Double> ms = new ArrayList<>();
    for (HistogramIterationValue v : r.latency().percentiles(5)) {
      if (v.getPercentileLevelIteratedTo() > 99.9) {
        break;
      }
      pct.add(v.getPercentileLevelIteratedTo());
      ms.add(v.getValueIteratedTo() / 1000.0);
    }
    if (pct.isEmpty()) {
      pct.add(0.0);
      ms.add(0.0);
    }
    latency.addSeries("latency", pct, ms);
    try {
      if (png.getParent() != null) {
        Files.createDirectories(png.getParent());
      }
      List<Chart<?, ?>> charts = List.of(throughput, latency);
      BitmapEncoder.saveBitmap(charts, 1, 2, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the chart " + png + ": " + e.getMessage(), e);
    }
  }

  /**
   * Writes the chart of an {@linkplain EveryPath every-path run}: each path's throughput as a
   * fraction of the raw model's, one bar each.
   *
   * @throws UncheckedIOException when the file cannot be written
   */
  public static void write(EveryPathReport r, Path png) {
    CategoryChart chart =
        new CategoryChartBuilder()
            .width(900)
            .height(520)
            .title("%s, batch %d: every path against the raw model".formatted(r.model(), r.batch()))
            .yAxisTitle("× raw model")
            .build();
    chart.getStyler().setLegendVisible(false);
    chart.getStyler().setLabelsVisible(true);
    chart.getStyler().setXAxisLabelRotation(90);
    chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    List<String> paths = new ArrayList<>(List.of("raw model"));
    List<Double> ratios = new ArrayList<>(List.of(1.0));
    for (EveryPathReport.Row row : r.rows()) {
      paths.add(row.path());
      ratios.add(Math.round(row.ratio() * 100) / 100.0);
    }
    chart.addSeries("× raw", paths, ratios);
    try {
      if (png.getParent() != null) {
        Files.createDirectories(png.getParent());
      }
      BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the chart " + png + ": " + e.getMessage(), e);
    }
  }
}
