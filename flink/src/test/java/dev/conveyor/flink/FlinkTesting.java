package dev.conveyor.flink;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Requests;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.CheckpointListener;

/** What the engine's integration tests share: requests to send, and faults to inject. */
final class FlinkTesting {
  private FlinkTesting() {}

  /** {@code n} requests with ids {@code r-0…}, cycling through good images and one broken one. */
  static List<ImageRequest> requests(int n) throws Exception {
    List<String> names =
        List.of("palette-blue.png", "yellow.bmp", "tiny-gray.png", "sky.tif", "truncated.jpg");
    List<ImageRequest> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Path file = TestImages.folder().resolve(names.get(i % names.size()));
      out.add(
          new ImageRequest(
              "r-" + i, file.getFileName().toString(), Files.readAllBytes(file), null, null, 0));
    }
    return out;
  }

  /** Sends the requests through Conveyor's producer for the URI, and waits until all are sent. */
  static void send(String uri, List<ImageRequest> requests) throws Exception {
    try (Requests p = Brokers.open(uri).producer()) {
      for (ImageRequest r : requests) {
        p.send(r, Duration.ofSeconds(10));
      }
      if (!p.flush(Duration.ofSeconds(30)).isEmpty()) {
        throw new AssertionError("some requests were not sent");
      }
    }
  }

  /** The job settings for a test: the bundled model, small batches, frequent checkpoints. */
  static Map<String, String> settings(String source, String sink, String... more) {
    Map<String, String> s = new HashMap<>();
    s.put("source", source);
    s.put("sink", sink);
    s.put("model", ClassifyOperatorTest.MODEL);
    s.put("batch", "4");
    s.put("parallelism", "2");
    s.put("checkpoint-ms", "200");
    for (int i = 0; i + 1 < more.length; i += 2) {
      s.put(more[i], more[i + 1]);
    }
    return s;
  }

  /**
   * Passes requests on, and fails its task once: at the first request after a checkpoint has
   * completed and {@code after} requests have passed, so there is read, unacknowledged work behind
   * it for the restart to recover. Shared through statics: the MiniCluster runs in this JVM.
   */
  static final class FailOnce extends RichMapFunction<Incoming, Incoming>
      implements CheckpointListener {
    static final AtomicBoolean FAILED = new AtomicBoolean();
    static final AtomicInteger PASSED_BEFORE_FAILURE = new AtomicInteger();
    static final AtomicInteger CHECKPOINTS_BEFORE_FAILURE = new AtomicInteger();
    private final int after;
    private transient int passed;
    private transient int checkpoints;

    FailOnce(int after) {
      this.after = after;
    }

    static void reset() {
      FAILED.set(false);
      PASSED_BEFORE_FAILURE.set(0);
      CHECKPOINTS_BEFORE_FAILURE.set(0);
    }

    @Override
    public void open(OpenContext context) {
      passed = 0;
      checkpoints = 0;
    }

    @Override
    public Incoming map(Incoming r) {
      passed++;
      if (passed > after && checkpoints > 0 && FAILED.compareAndSet(false, true)) {
        PASSED_BEFORE_FAILURE.set(passed);
        CHECKPOINTS_BEFORE_FAILURE.set(checkpoints);
        throw new IllegalStateException("injected failure after " + passed + " requests");
      }
      return r;
    }

    @Override
    public void notifyCheckpointComplete(long checkpointId) {
      checkpoints++;
    }
  }

  /** Passes requests on slowly, so a job spans several checkpoints. */
  static final class Slow extends RichMapFunction<Incoming, Incoming> {
    private final long millis;

    Slow(long millis) {
      this.millis = millis;
    }

    @Override
    public Incoming map(Incoming r) throws InterruptedException {
      Thread.sleep(millis);
      return r;
    }
  }
}
