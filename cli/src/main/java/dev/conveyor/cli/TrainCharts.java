package dev.conveyor.cli;

import dev.conveyor.train.Evaluation;
import dev.conveyor.train.FashionTrainer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.internal.chartpart.Chart;

/** PNG charts of training and evaluation: the training curve and the confusion matrix. */
final class TrainCharts {
  private TrainCharts() {}

  /** Loss per epoch beside training and test accuracy per epoch. */
  static void trainingCurve(List<FashionTrainer.Epoch> history, Path png) {
    List<Integer> epochs = history.stream().map(FashionTrainer.Epoch::epoch).toList();
    XYChart loss =
        new XYChartBuilder()
            .width(560)
            .height(400)
            .title("training loss")
            .xAxisTitle("epoch")
            .yAxisTitle("cross-entropy")
            .build();
    loss.addSeries("loss", epochs, history.stream().map(FashionTrainer.Epoch::loss).toList());
    XYChart accuracy =
        new XYChartBuilder()
            .width(560)
            .height(400)
            .title("accuracy")
            .xAxisTitle("epoch")
            .yAxisTitle("top-1")
            .build();
    accuracy.addSeries(
        "train", epochs, history.stream().map(FashionTrainer.Epoch::trainAccuracy).toList());
    accuracy.addSeries(
        "test", epochs, history.stream().map(FashionTrainer.Epoch::testAccuracy).toList());
    for (XYChart c : List.of(loss, accuracy)) {
      c.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
      c.getStyler().setXAxisDecimalPattern("0");
    }
    save(List.of(loss, accuracy), 1, 2, png);
  }

  /** The confusion matrix as a heat map with counts: actual class down, predicted across. */
  static void confusion(Evaluation evaluation, String title, Path png) {
    List<String> classes = evaluation.classes();
    long[][] matrix = evaluation.confusion();
    List<Number[]> cells = new ArrayList<>();
    for (int actual = 0; actual < classes.size(); actual++) {
      for (int predicted = 0; predicted < classes.size(); predicted++) {
        cells.add(new Number[] {predicted, classes.size() - 1 - actual, matrix[actual][predicted]});
      }
    }
    List<String> rows = new ArrayList<>(classes);
    java.util.Collections.reverse(rows);
    HeatMapChart chart =
        new HeatMapChartBuilder()
            .width(900)
            .height(760)
            .title(title)
            .xAxisTitle("predicted")
            .yAxisTitle("actual")
            .build();
    chart.getStyler().setShowValue(true);
    chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    chart.getStyler().setHeatMapValueDecimalPattern("0");
    chart.addSeries("confusion", classes, rows, cells);
    save(List.of(chart), 1, 1, png);
  }

  private static void save(List<? extends Chart<?, ?>> charts, int rows, int cols, Path png) {
    try {
      if (png.toAbsolutePath().getParent() != null) {
        Files.createDirectories(png.toAbsolutePath().getParent());
      }
      BitmapEncoder.saveBitmap(
          List.copyOf(charts), rows, cols, png.toString(), BitmapEncoder.BitmapFormat.PNG);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the chart " + png + ": " + e.getMessage(), e);
    }
  }
}
