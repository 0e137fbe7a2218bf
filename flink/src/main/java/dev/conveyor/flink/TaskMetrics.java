package dev.conveyor.flink;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import java.util.EnumMap;
import java.util.Map;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;

/**
 * What a classifying task counts, in its metric group {@code conveyor}: {@code images}, {@code
 * imagesPerSecond}, {@code errors} (and per code, under {@code code}), the {@code batchSize} and
 * {@code latencyMs} histograms; and the accumulators {@link ClassifyOperator#RESULTS} and {@link
 * ClassifyOperator#ERRORS} for the job's client.
 */
final class TaskMetrics {
  private final MetricGroup metrics;
  private final Counter images;
  private final Counter errors;
  private final Map<ErrorCode, Counter> errorsByCode = new EnumMap<>(ErrorCode.class);
  private final Histogram batchSizes;
  private final Histogram latencies;
  private final LongCounter resultCount = new LongCounter();
  private final LongCounter errorCount = new LongCounter();

  TaskMetrics(MetricGroup task, RuntimeContext context) {
    metrics = task.addGroup("conveyor");
    images = metrics.counter("images");
    metrics.meter("imagesPerSecond", new MeterView(images));
    errors = metrics.counter("errors");
    batchSizes = metrics.histogram("batchSize", new DescriptiveStatisticsHistogram(1000));
    latencies = metrics.histogram("latencyMs", new DescriptiveStatisticsHistogram(1000));
    context.addAccumulator(ClassifyOperator.RESULTS, resultCount);
    context.addAccumulator(ClassifyOperator.ERRORS, errorCount);
  }

  void batch(int size) {
    batchSizes.update(size);
  }

  /** One result, {@code ms} after its request came to the task ({@code -1}: unknown). */
  void result(ClassifyResult result, long ms) {
    images.inc();
    resultCount.add(1);
    if (ms >= 0) {
      latencies.update(ms);
    }
    if (!result.isOk()) {
      errors.inc();
      errorCount.add(1);
      errorsByCode
          .computeIfAbsent(
              result.error().code(),
              code -> metrics.addGroup("code", code.name()).counter("errors"))
          .inc();
    }
  }
}
