package dev.conveyor.flink;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.settings.Settings;
import java.io.Serializable;
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
public final class ClassifyOperator<I, O> extends AbstractStreamOperator<O>
    implements OneInputStreamOperator<I, O>, BoundedOneInput {

  /** The accumulator counting results, read by the job's client for its progress line. */
  public static final String RESULTS = "conveyor-results";

  /** The accumulator counting error results. */
  public static final String ERRORS = "conveyor-errors";

  /**
   * What the operator reads from its input and gives for each result.
   *
   * @param <I> what comes in
   * @param <O> what goes out, one for each that came in
   */
  public interface Shape<I, O> extends Serializable {
    /** The request {@code in} carries. */
    ImageRequest request(I in);

    /** What goes out for {@code in}, whose request got {@code result}. */
    O result(I in, ImageRequest request, ClassifyResult result);
  }

  /** The job's: a source's requests in, results on their way to a sink out. */
  static final class JobShape implements Shape<Incoming, Classified> {
    private static final long serialVersionUID = 1L;

    @Override
    public ImageRequest request(Incoming in) {
      return in.request();
    }

    @Override
    public Classified result(Incoming in, ImageRequest request, ClassifyResult result) {
      return new Classified(
          result.id(), request.replyTo(), result.isOk(), Json.write(result), in.entry());
    }
  }

  private final Map<String, String> settings;
  private final Shape<I, O> shape;
  private transient ServedModels models;
  private transient List<ImageRequest> pending;
  private transient List<I> pendingIn;
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
  public ClassifyOperator(Map<String, String> settings, Shape<I, O> shape) {
    ServedModels.read(settings, "job");
    this.settings = Map.copyOf(settings);
    this.shape = shape;
  }

  /** The job's operator: {@link Incoming} requests in, {@link Classified} results out. */
  public static ClassifyOperator<Incoming, Classified> forJob(Map<String, String> settings) {
    return new ClassifyOperator<>(settings, new JobShape());
  }

  @Override
  public void open() throws Exception {
    super.open();
    Settings s = ServedModels.read(settings, "job");
    models = ServedModels.open(s);
    batch = s.get(PipelineSettings.BATCH);
    lingerMillis = s.get(PipelineSettings.LINGER_MS);
    pending = new ArrayList<>(batch);
    pendingIn = new ArrayList<>(batch);
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
  public void processElement(StreamRecord<I> element) {
    I in = element.getValue();
    ImageRequest given = shape.request(in);
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
      emit(in, r, models.classify(List.of(r)).get(0), System.nanoTime());
      return;
    }
    pending.add(r);
    pendingIn.add(in);
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
    List<I> ins = pendingIn;
    pending = new ArrayList<>(batch);
    pendingIn = new ArrayList<>(batch);
    List<ClassifyResult> results = models.classify(requests);
    long now = System.nanoTime();
    batchSizes.update(requests.size());
    for (int i = 0; i < results.size(); i++) {
      emit(ins.get(i), requests.get(i), results.get(i), now);
    }
  }

  private void emit(I in, ImageRequest request, ClassifyResult result, long now) {
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
    output.collect(new StreamRecord<>(shape.result(in, request, result)));
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
