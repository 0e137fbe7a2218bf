package dev.conveyor.flink;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.pipeline.PipelineSettings;
import dev.conveyor.pipeline.Pipelines;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Function;
import org.apache.flink.streaming.api.operators.AbstractStreamOperator;
import org.apache.flink.streaming.api.operators.BoundedOneInput;
import org.apache.flink.streaming.api.operators.OneInputStreamOperator;
import org.apache.flink.streaming.runtime.streamrecord.StreamRecord;

/**
 * Classifies a stream of requests with Conveyor's pipeline: one model per parallel task, opened in
 * {@link #open} and closed in {@link #close}. Requests are gathered into batches of up to {@code
 * batch}; a batch runs when it is full, when {@code linger-ms} has passed since its first request
 * (a processing-time timer), before every checkpoint barrier (so no request waits in a buffer
 * across a checkpoint), and at the end of a bounded input. Each request gives one result, emitted
 * as the JSON that {@code conveyor classify} prints; a bad image is an error result, never a failed
 * job.
 *
 * @param <IN> what the source gives; {@code toRequest} turns it into a request on the task
 */
public final class ClassifyOperator<IN> extends AbstractStreamOperator<String>
    implements OneInputStreamOperator<IN, String>, BoundedOneInput {

  /** Turns a source's element into a request; runs on the task, so it must be serializable. */
  public interface ToRequest<IN> extends Function<IN, ImageRequest>, Serializable {}

  private final Map<String, String> settings;
  private final ToRequest<IN> toRequest;
  private transient Pipeline pipeline;
  private transient List<ImageRequest> pending;
  private transient int batch;
  private transient long lingerMillis;
  private transient ScheduledFuture<?> timer;

  /**
   * @param settings the pipeline's settings by name (model, preset, batch, linger-ms, …), as job
   *     arguments give them; checked here, on the client, before the job is submitted
   */
  public ClassifyOperator(Map<String, String> settings, ToRequest<IN> toRequest) {
    Pipelines.read(settings, "job");
    this.settings = Map.copyOf(settings);
    this.toRequest = toRequest;
  }

  @Override
  public void open() throws Exception {
    super.open();
    Settings s = Pipelines.read(settings, "job");
    pipeline = Pipelines.open(s);
    batch = s.get(PipelineSettings.BATCH);
    lingerMillis = s.get(PipelineSettings.LINGER_MS);
    pending = new ArrayList<>(batch);
  }

  @Override
  public void processElement(StreamRecord<IN> element) {
    ImageRequest request = toRequest.apply(element.getValue());
    pending.add(request);
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
    pending = new ArrayList<>(batch);
    for (ClassifyResult r : pipeline.classify(requests)) {
      output.collect(new StreamRecord<>(Json.write(r)));
    }
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
      if (pipeline != null) {
        pipeline.close();
      }
    } finally {
      super.close();
    }
  }
}
