package dev.conveyor.server;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.worker.WorkerListener;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What the web page's dashboard shows: totals, one point a second for the last two minutes
 * (throughput, latency p50/p99, mean batch size, queue depth, errors), results per worker, the
 * batch-size distribution, and a gallery of the latest results with their images. It learns all of
 * it as a {@link WorkerListener}, and, when the server follows a results store ({@link
 * StoredResults}), also of the results workers anywhere stored there; the store's copies of this
 * server's own results are not counted twice.
 */
final class Dashboard implements WorkerListener, AutoCloseable {
  static final int SECONDS = 120;
  static final int RECENT = 24;
  static final int MAX_IMAGE_BYTES = 1 << 20;

  /** How many of this server's answered ids are remembered, to skip the store's copies of them. */
  static final int ANSWERED = 16_384;

  private record Point(
      long epochSecond, long results, Double p50, Double p99, Double batch, int depth, long errs) {}

  /**
   * A recent result and, when small enough to keep and an image the gallery serves ({@link
   * GalleryImages}), its image; {@code number} names it in the image's address (ids may hold any
   * character, slashes too).
   */
  record Recent(long number, ClassifyResult result, long timeMs, byte[] image) {}

  private final Classify classify;
  private final long startNanos = System.nanoTime();
  private final LongAdder requests = new LongAdder();
  private final LongAdder ok = new LongAdder();
  private final LongAdder errors = new LongAdder();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Map<String, LongAdder> errorsByCode = new ConcurrentSkipListMap<>();
  private final Map<String, LongAdder> perWorker = new ConcurrentSkipListMap<>();
  private final Map<String, ModelCounts> perModel = new ConcurrentSkipListMap<>();
  private final Map<Integer, LongAdder> batchSizes = new ConcurrentHashMap<>();
  private final LongAdder batches = new LongAdder();
  private final LongAdder batchedImages = new LongAdder();
  private final Recorder latencyMicros = new Recorder(3);
  private final Deque<Point> series = new ArrayDeque<>();
  private final Deque<Recent> recent = new ArrayDeque<>();
  private long recentNumber;
  private final ScheduledExecutorService ticker;
  private long lastResults;
  private long lastErrors;
  private long lastBatches;
  private long lastBatchedImages;
  private Histogram interval;

  /** Set when a store is followed: this server's requests, in flight and lately answered. */
  private volatile boolean following;

  private final Set<String> mine = ConcurrentHashMap.newKeySet();
  private final Map<String, Boolean> answered =
      Collections.synchronizedMap(
          new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
              return size() > ANSWERED;
            }
          });

  Dashboard(Classify classify) {
    this.classify = classify;
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "conveyor-dashboard");
              t.setDaemon(true);
              return t;
            });
    ticker.scheduleAtFixedRate(this::tick, 1, 1, TimeUnit.SECONDS);
  }

  @Override
  public void submitted(ImageRequest request) {
    requests.increment();
    inFlight.incrementAndGet();
    if (following) {
      mine.add(request.id());
    }
  }

  /** A request answered without a result: refused, timed out, or failed to send. */
  @Override
  public void refused(ImageRequest request, ErrorCode code) {
    inFlight.decrementAndGet();
    mine.remove(request.id());
    errorsByCode.computeIfAbsent(code.name(), k -> new LongAdder()).increment();
    errors.increment();
  }

  @Override
  public void result(ImageRequest request, ClassifyResult r, long nanos) {
    inFlight.decrementAndGet();
    if (following) {
      answered.put(request.id(), Boolean.TRUE);
      mine.remove(request.id());
    }
    // kept for the gallery only when its bytes are an image it serves, whatever it was declared
    byte[] bytes = request.bytes();
    boolean kept =
        bytes != null
            && bytes.length <= MAX_IMAGE_BYTES
            && GalleryImages.contentType(bytes) != null;
    count(r, nanos / 1000, kept ? bytes : null);
    String named = request.model();
    String model =
        r.model() != null
            ? r.model()
            : named != null && classify.serves(named) ? named : classify.model();
    perModel
        .computeIfAbsent(
            model + "\u0000" + (r.version() == null ? "" : r.version()),
            k -> new ModelCounts(model, r.version()))
        .count(r.isOk(), nanos / 1000);
  }

  /** Told that the server follows a store: {@link #stored} results come from then on. */
  void following() {
    following = true;
  }

  /**
   * A result stored by a worker anywhere; skipped when it answers one of this server's requests,
   * which {@link #result} counts.
   */
  void stored(ClassifyResult r) {
    if (mine.contains(r.id()) || answered.containsKey(r.id())) {
      return;
    }
    count(r, r.latencyMs() == null ? -1 : Math.round(r.latencyMs() * 1000), null);
  }

  /**
   * Counts a result, its latency when known ({@code micros >= 0}), and keeps it for the gallery.
   */
  private void count(ClassifyResult r, long micros, byte[] image) {
    if (micros >= 0) {
      latencyMicros.recordValue(Math.max(1, micros));
    }
    if (r.isOk()) {
      ok.increment();
    } else {
      errors.increment();
      errorsByCode.computeIfAbsent(r.error().code().name(), k -> new LongAdder()).increment();
    }
    perWorker.computeIfAbsent(r.host() == null ? "?" : r.host(), k -> new LongAdder()).increment();
    synchronized (recent) {
      recent.addFirst(new Recent(++recentNumber, r, System.currentTimeMillis(), image));
      while (recent.size() > RECENT) {
        recent.removeLast();
      }
    }
  }

  @Override
  public void batch(int images, long modelNanos) {
    batches.increment();
    batchedImages.add(images);
    batchSizes.computeIfAbsent(images, k -> new LongAdder()).increment();
  }

  /** Closes the last second: one new point in the series. */
  private void tick() {
    long results = ok.sum() + errors.sum();
    long errs = errors.sum();
    long b = batches.sum();
    long images = batchedImages.sum();
    interval = latencyMicros.getIntervalHistogram(interval);
    boolean any = interval.getTotalCount() > 0;
    Point p =
        new Point(
            System.currentTimeMillis() / 1000,
            results - lastResults,
            any ? interval.getValueAtPercentile(50) / 1000.0 : null,
            any ? interval.getValueAtPercentile(99) / 1000.0 : null,
            b > lastBatches ? (double) (images - lastBatchedImages) / (b - lastBatches) : null,
            Math.max(0, classify.queueDepth()),
            errs - lastErrors);
    lastResults = results;
    lastErrors = errs;
    lastBatches = b;
    lastBatchedImages = images;
    synchronized (series) {
      series.addLast(p);
      while (series.size() > SECONDS) {
        series.removeFirst();
      }
    }
  }

  /** The {@code GET /v1/stats} answer. */
  Map<String, Object> stats() {
    Map<String, Object> totals = new LinkedHashMap<>();
    totals.put("requests", requests.sum());
    totals.put("ok", ok.sum());
    totals.put("errors", errors.sum());
    totals.put("in_flight", inFlight.get());
    totals.put("queue_depth", classify.queueDepth());
    totals.put("queue_capacity", classify.queueCapacity());
    List<Map<String, Object>> workers = new ArrayList<>();
    perWorker.forEach(
        (name, n) -> {
          Map<String, Object> w = new LinkedHashMap<>();
          w.put("name", name);
          w.put("results", n.sum());
          workers.add(w);
        });
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("t", new ArrayList<Long>());
    s.put("throughput", new ArrayList<Long>());
    s.put("p50_ms", new ArrayList<Double>());
    s.put("p99_ms", new ArrayList<Double>());
    s.put("batch_size", new ArrayList<Double>());
    s.put("queue_depth", new ArrayList<Integer>());
    s.put("errors", new ArrayList<Long>());
    synchronized (series) {
      for (Point p : series) {
        add(s, "t", p.epochSecond);
        add(s, "throughput", p.results);
        add(s, "p50_ms", p.p50);
        add(s, "p99_ms", p.p99);
        add(s, "batch_size", p.batch);
        add(s, "queue_depth", p.depth);
        add(s, "errors", p.errs);
      }
    }
    Map<String, Long> sizes = new TreeMap<>();
    new TreeMap<>(batchSizes).forEach((size, n) -> sizes.put(Integer.toString(size), n.sum()));
    Map<String, Long> codes = new LinkedHashMap<>();
    errorsByCode.forEach((code, n) -> codes.put(code, n.sum()));
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("model", classify.model());
    m.put("transport", classify.transport());
    m.put("uptime_s", Math.round((System.nanoTime() - startNanos) / 1e8) / 10.0);
    m.put("totals", totals);
    m.put("errors_by_code", codes);
    m.put("workers", workers);
    m.put("models", perModel.values().stream().map(ModelCounts::json).toList());
    m.put("series", s);
    m.put("batch_sizes", sizes);
    return m;
  }

  @SuppressWarnings("unchecked")
  private static void add(Map<String, Object> series, String name, Object value) {
    ((List<Object>) series.get(name)).add(value);
  }

  /** The latest results, newest first. */
  List<Recent> recent() {
    synchronized (recent) {
      return new ArrayList<>(recent);
    }
  }

  /** A recent result by its number, or null. */
  Recent recent(long number) {
    synchronized (recent) {
      for (Recent r : recent) {
        if (r.number() == number) {
          return r;
        }
      }
    }
    return null;
  }

  @Override
  public void close() {
    ticker.shutdownNow();
  }
}
