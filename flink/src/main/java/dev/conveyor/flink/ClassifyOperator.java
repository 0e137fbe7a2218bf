package dev.conveyor.flink;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.settings.Settings;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import org.apache.flink.api.common.accumulators.LongCounter;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Histogram;
import org.apache.flink.metrics.MeterView;
import org.apache.flink.metrics.MetricGroup;
import org.apache.flink.runtime.metrics.DescriptiveStatisticsHistogram;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Classifies a stream of requests with Conveyor's pipeline: one model per parallel task (or, with
 * {@code models}, a repository's models, each request's by its name), opened in {@link #open} and
 * closed in {@link #close}. Requests are gathered into batches of up to {@code batch}, one per
 * model they name, each run on the model's serving version, so that a version published into the
 * repository takes the batches after it; a batch runs when it is full, when {@code linger-ms} has
 * passed since its first request (a processing-time timer), before every checkpoint barrier (so no
 * request waits in a buffer across a checkpoint), and at the end of a bounded input. Decoding and
 * preprocessing run on the task's thread. Each request gives one result; a bad image is an error
 * result, never a failed job.
 *
 * <p>Metrics, in the task's group {@code conveyor}: {@code images}, {@code imagesPerSecond}, {@code
 * errors} (and per code, under {@code code}), {@code batchSize} and {@code latencyMs} histograms.
 * The accumulators {@link #RESULTS} and {@link #ERRORS} count for the job's client.
 */
public final class ClassifyOperator extends AbstractStreamOperator<Classified>
    implements OneInputStreamOperator<Incoming, Classified>, BoundedOneInput {

  /** The accumulator counting results, read by the job's client for its progress line. */
  public static final String RESULTS = "conveyor-results";

  /** The accumulator counting error results. */
  public static final String ERRORS = "conveyor-errors";

  private final Map<String, String> settings;
  private transient ServedModels models;
  private transient List<ImageRequest> pending;
  private transient List<String> pendingEntries;
  private transient int batch;
  private transient long lingerMillis;
  private transient ScheduledFuture<?> timer;
  private transient Counter images;
  private transient Counter errors;
  private transient Map<ErrorCode, Counter> errorsByCode;
  private transient MetricGroup metrics;
  private transient Histogram batchSizes;
  private transient Histogram latencies;
  private transient LongCounter resultCount;
  private transient LongCounter errorCount;

  /**
   * @param settings the pipeline's settings by name (model, preset, batch, linger-ms, …), as job
   *     arguments give them; checked here, on the client, before the job is submitted
   */
  public ClassifyOperator(Map<String, String> settings) {
    ServedModels.read(settings, "job");
    this.settings = Map.copyOf(settings);
  }

  @Override
  public void open() throws Exception {
    super.open();
    Settings s = ServedModels.read(settings, "job");
    models = ServedModels.open(s);
    batch = s.get(PipelineSettings.BATCH);
    lingerMillis = s.get(PipelineSettings.LINGER_MS);
    pending = new ArrayList<>(batch);
    pendingEntries = new ArrayList<>(batch);
    metrics = getMetricGroup().addGroup("conveyor");
    images = metrics.counter("images");
    metrics.meter("imagesPerSecond", new MeterView(images));
    errors = metrics.counter("errors");
    errorsByCode = new EnumMap<>(ErrorCode.class);
    batchSizes = metrics.histogram("batchSize", new DescriptiveStatisticsHistogram(1000));
    latencies = metrics.histogram("latencyMs", new DescriptiveStatisticsHistogram(1000));
    resultCount = new LongCounter();
    errorCount = new LongCounter();
    getRuntimeContext().addAccumulator(RESULTS, resultCount);
    getRuntimeContext().addAccumulator(ERRORS, errorCount);
  }

  @Override
  public void processElement(StreamRecord<Incoming> element) {
    ImageRequest given = element.getValue().request();
    String entry = element.getValue().entry();
    // latency counts from here: a source's clock is another machine's
    ImageRequest r =
        new ImageRequest(
                given.id(),
                given.source(),
                given.bytes(),
                given.contentType(),
                given.replyTo(),
                System.nanoTime())
            .withModel(given.model());
    if (ImageRequest.UNREADABLE.equals(r.contentType())) {
      // answered at once: the pipeline makes its BAD_REQUEST result without running the model
      emit(r, entry, models.classify(List.of(r)).get(0), System.nanoTime());
      return;
    }
    pending.add(r);
    pendingEntries.add(entry);
    if (pending.size() >= batch) {
      flush();
    } else if (pending.size() == 1) {
      long at = getProcessingTimeService().getCurrentProcessingTime() + lingerMillis;
      timer = getProcessingTimeService().registerTimer(at, time -> flush());
    }
  }

  /** Runs the batch gathered so far, if any, and emits one result per request. */
  private void flush() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
    if (pending.isEmpty()) {
      return;
    }
    List<ImageRequest> requests = pending;
    List<String> entries = pendingEntries;
    pending = new ArrayList<>(batch);
    pendingEntries = new ArrayList<>(batch);
    List<ClassifyResult> results = models.classify(requests);
    long now = System.nanoTime();
    batchSizes.update(requests.size());
    for (int i = 0; i < results.size(); i++) {
      emit(requests.get(i), entries.get(i), results.get(i), now);
    }
  }

  private void emit(ImageRequest request, String entry, ClassifyResult result, long now) {
    images.inc();
    resultCount.add(1);
    if (request.enqueuedNanos() > 0) {
      latencies.update((now - request.enqueuedNanos()) / 1_000_000);
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
    output.collect(
        new StreamRecord<>(
            new Classified(
                result.id(), request.replyTo(), result.isOk(), Json.write(result), entry)));
  }

  @Override
  public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
    super.prepareSnapshotPreBarrier(checkpointId);
    flush();
  }

  /** The end of a bounded input: what is left runs now. */
  @Override
  public void endInput() {
    flush();
  }

  @Override
  public void finish() throws Exception {
    flush();
    super.finish();
  }

  @Override
  public void close() throws Exception {
    try {
      if (models != null) {
        models.close();
      }
    } finally {
      super.close();
    }
  }
}
