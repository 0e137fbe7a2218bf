package dev.conveyor.flink;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.Pipelines;
import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import org.apache.flink.api.common.operators.MailboxExecutor;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;
import org.apache.flink.util.function.SerializableFunction;

/**
 * Classifies a stream of requests with Conveyor's pipeline: one model per parallel task (or, with
 * {@code models}, a repository's models, each request's by its name), opened in {@link #open} and
 * closed in {@link #close}. Requests are gathered into batches of up to {@code batch}, one per
 * model they name, each run on the model's serving version, so that a version published into the
 * repository takes the batches after it; a batch runs when it is full, when {@code linger-ms} has
 * passed since its first request (a processing-time timer), before every checkpoint barrier (so no
 * request waits in a buffer across a checkpoint, every batch run and its results emitted first),
 * and at the end of a bounded input. Batches run on two threads of the operator's own, so that one
 * is decoded and preprocessed while the model runs the other, as {@code worker} overlaps them;
 * their results are emitted on the task's thread, in the order the batches began. Each request
 * gives one result; a bad image is an error result, never a failed job.
 *
 * <p>Metrics and accumulators: {@link TaskMetrics}.
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
  private final SerializableFunction<Settings, Pipeline> pipeline;
  private transient ServedModels models;
  private transient List<ImageRequest> pending;
  private transient List<I> pendingIn;
  private transient int batch;
  private transient long lingerMillis;
  private transient ScheduledFuture<?> timer;
  private transient MailboxExecutor mailbox;
  private transient ExecutorService runners;
  private transient ArrayDeque<Running<I>> running;
  private transient TaskMetrics metrics;

  /**
   * @param settings the pipeline's settings by name (model, preset, batch, linger-ms, …), as job
   *     arguments give them; checked here, on the client, before the job is submitted
   */
  public ClassifyOperator(Map<String, String> settings, Shape<I, O> shape) {
    this(settings, shape, Pipelines::open);
  }

  /** An operator whose one model's pipeline {@code pipeline} opens from the settings. */
  ClassifyOperator(
      Map<String, String> settings,
      Shape<I, O> shape,
      SerializableFunction<Settings, Pipeline> pipeline) {
    ServedModels.read(settings, "job");
    this.settings = Map.copyOf(settings);
    this.shape = shape;
    this.pipeline = pipeline;
  }

  /** The job's operator: {@link Incoming} requests in, {@link Classified} results out. */
  public static ClassifyOperator<Incoming, Classified> forJob(Map<String, String> settings) {
    return new ClassifyOperator<>(settings, new JobShape());
  }

  @Override
  public void open() throws Exception {
    super.open();
    Settings s = ServedModels.read(settings, "job");
    models = ServedModels.open(s, pipeline);
    batch = s.get(PipelineSettings.BATCH);
    lingerMillis = s.get(PipelineSettings.LINGER_MS);
    pending = new ArrayList<>(batch);
    pendingIn = new ArrayList<>(batch);
    running = new ArrayDeque<>();
    int task = getRuntimeContext().getTaskInfo().getIndexOfThisSubtask();
    runners =
        Executors.newFixedThreadPool(
            2,
            r -> {
              Thread t = new Thread(r, "conveyor-classify-" + task);
              t.setDaemon(true);
              return t;
            });
    metrics = new TaskMetrics(getMetricGroup(), getRuntimeContext());
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

  /**
   * Starts the batch gathered so far, if any, on the operator's threads; its results are emitted on
   * the task's thread once it has run. Without a mailbox (a test harness), runs it here.
   */
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
    metrics.batch(requests.size());
    if (mailbox == null) {
      emitAll(
          new Running<>(
              ins, requests, CompletableFuture.completedFuture(models.classify(requests))));
      return;
    }
    // at most two batches at once: one decoded while the model runs the other
    while (running.size() >= 2) {
      emitAll(running.poll());
    }
    Running<I> started =
        new Running<>(
            ins, requests, CompletableFuture.supplyAsync(() -> models.classify(requests), runners));
    running.add(started);
    started.results().whenComplete((r, failed) -> mail());
  }

  /** Has the task's thread emit the batches that are done, in the order they began. */
  private void mail() {
    try {
      mailbox.execute(this::emitDone, "conveyor results");
    } catch (RejectedExecutionException closing) {
      // the task is closing or cancelled: nothing is left to emit to
    }
  }

  private void emitDone() {
    while (!running.isEmpty() && running.peek().results().isDone()) {
      emitAll(running.poll());
    }
  }

  /** Emits a batch's results, waiting on the task's thread for it to run if it has not. */
  private void emitAll(Running<I> started) {
    List<ClassifyResult> results = started.results().join();
    long now = System.nanoTime();
    for (int i = 0; i < results.size(); i++) {
      emit(started.ins().get(i), started.requests().get(i), results.get(i), now);
    }
  }

  /**
   * Runs what is gathered and emits every batch's results, waiting here, on the task's thread: a
   * checkpoint barrier or the end of the input passes only once no request is left in the operator.
   */
  private void drain() {
    flush();
    while (!running.isEmpty()) {
      emitAll(running.poll());
    }
  }

  /** A batch on its way through the model, with what came in for each request. */
  private record Running<I>(
      List<I> ins, List<ImageRequest> requests, CompletableFuture<List<ClassifyResult>> results) {}

  /**
   * Keeps the task's mailbox, through which a batch run on the operator's threads has the task's
   * thread emit its results.
   */
  @Override
  public void setMailboxExecutor(MailboxExecutor mailboxExecutor) {
    super.setMailboxExecutor(mailboxExecutor);
    this.mailbox = mailboxExecutor;
  }

  private void emit(I in, ImageRequest request, ClassifyResult result, long now) {
    metrics.result(
        result, request.enqueuedNanos() > 0 ? (now - request.enqueuedNanos()) / 1_000_000 : -1);
    output.collect(new StreamRecord<>(shape.result(in, request, result)));
  }

  @Override
  public void prepareSnapshotPreBarrier(long checkpointId) throws Exception {
    super.prepareSnapshotPreBarrier(checkpointId);
    drain();
  }

  /** The end of a bounded input: what is left runs now. */
  @Override
  public void endInput() {
    drain();
  }

  @Override
  public void finish() throws Exception {
    drain();
    super.finish();
  }

  @Override
  public void close() throws Exception {
    try {
      if (runners != null) {
        runners.shutdownNow();
      }
      if (models != null) {
        models.close();
      }
    } finally {
      super.close();
    }
  }
}
