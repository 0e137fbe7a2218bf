package dev.conveyor.bench;

import dev.conveyor.assembly.LocalWorkers;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Replies;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * Overload held for a long time: the pipeline's capacity is measured first, then requests are
 * offered at a multiple of it (2× by default), at a fixed rate whatever comes back, against the
 * HTTP server over embedded workers, or through a broker to a worker. It reports the share refused
 * ({@code 429}, {@code BUSY}), the latency of what was accepted, whether everything accepted was
 * answered (after the load stops, what is queued is drained), and this process's resident memory
 * over the run, which must stay flat. Server, workers and load all run in this one process.
 */
public final class Soak {
  /** Callers enough to fill the server's batches: its capacity is its throughput with them. */
  private static final int CAPACITY_CALLERS = 256;

  private Soak() {}

  /**
   * @param bench the pipeline, its settings, the images, the seconds the capacity is measured for,
   *     and the broker to go through (none: the HTTP server)
   * @param duration how long the overload is held
   * @param overload the offered rate as a multiple of the measured capacity
   * @param rate the offered rate in requests per second, instead of measuring; 0 to measure
   * @param url a {@code serve} running elsewhere to post to ({@code http://host:8080}), instead of
   *     a server in this process; its memory is read from its {@code /metrics}
   * @param remoteWorkers with a broker: the workers run elsewhere ({@code conveyor worker}), not in
   *     this process
   * @param watch more processes whose resident memory is reported (workers elsewhere)
   * @param connections the most HTTP requests outstanding at once, as a load generator's
   *     connections; past it the load waits, and offers less than asked
   */
  public record Plan(
      BenchPlan bench,
      Duration duration,
      double overload,
      double rate,
      Optional<URI> url,
      boolean remoteWorkers,
      List<Long> watch,
      int connections) {
    public Plan {
      watch = List.copyOf(watch);
      if (connections < 1) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING, "connections must be at least 1, not " + connections);
      }
      if (remoteWorkers && rate <= 0) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "with the workers elsewhere, give the rate to offer (--rate): their capacity is not measured here");
      }
      if (duration.isNegative() || duration.isZero()) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING, "a soak lasts a positive time, not " + duration);
      }
      if (!(overload > 0) || rate < 0) {
        throw new ConveyorException(ErrorCode.INVALID_SETTING, "the offered load must be above 0");
      }
    }
  }

  /**
   * Progress and the resident memory of each process watched, once a second.
   *
   * @param rssKb by process: {@code this} (bench), {@code serve}, {@code pid N}
   */
  public record Sample(double seconds, long answered, long refused, Map<String, Long> rssKb) {}

  /**
   * One process's resident memory over the run.
   *
   * @param warmKb after the first tenth of the run
   * @param endKb at the end of the load
   * @param peakKb the highest seen
   */
  public record Memory(String process, long warmKb, long endKb, long peakKb) {}

  /**
   * What the soak saw.
   *
   * @param capacity the measured (or given) capacity, requests per second
   * @param offered the rate requests were offered at
   * @param accepted requests the server or broker took
   * @param refused requests answered {@code 429} or {@code BUSY}
   * @param failed requests accepted and answered with a failure (a 5xx), or not sent for another
   *     reason
   * @param lost accepted requests with no answer once the queue was drained (a broker's)
   * @param unanswered HTTP requests with no response at all by the end (not even a connection:
   *     callers past the server's connection limit wait in the kernel's backlog)
   * @param memory each watched process's resident memory over the run
   */
  public record Report(
      String target,
      double capacity,
      double offered,
      double seconds,
      long sent,
      long accepted,
      long refused,
      long failed,
      long answered,
      long lost,
      long unanswered,
      double p50Ms,
      double p99Ms,
      List<Memory> memory,
      List<Sample> samples) {

    public String markdown() {
      return String.join(
          "\n",
          "### Soak: %s, %.0f s at %.0f req/s asked, %.0f sent (capacity %.1f req/s)"
              .formatted(target, seconds, offered, sent / seconds, capacity),
          "",
          "| sent | accepted | refused | failed | answered | lost | no response | p50 ms | p99 ms |",
          "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
          "| %d | %d | %d (%.1f%%) | %d | %d | %d | %d | %.1f | %.1f |"
              .formatted(
                  sent,
                  accepted,
                  refused,
                  sent == 0 ? 0 : 100.0 * refused / sent,
                  failed,
                  answered,
                  lost,
                  unanswered,
                  p50Ms,
                  p99Ms),
          "",
          "| process | RSS after warm-up | RSS at the end | peak |",
          "|---|---:|---:|---:|",
          memory.stream()
              .map(
                  m ->
                      "| %s | %d MiB | %d MiB | %d MiB |"
                          .formatted(
                              m.process(), m.warmKb() >> 10, m.endKb() >> 10, m.peakKb() >> 10))
              .collect(java.util.stream.Collectors.joining("\n")),
          "");
    }
  }

  /** Runs the soak; progress on stderr. */
  public static Report run(Plan plan) throws Exception {
    BenchPlan bench = plan.bench();
    Map<String, LongSupplier> watched = new LinkedHashMap<>();
    for (long pid : plan.watch()) {
      watched.put("pid " + pid, () -> status(Path.of("/proc/" + pid + "/status"), "VmRSS:"));
    }
    Broker broker = bench.broker().map(Brokers::open).orElse(null);
    if (broker == null && plan.url().isPresent()) {
      URI base = plan.url().get();
      HttpTarget target = new HttpTarget(base.resolve("/v1/classify"), plan.connections());
      watched.put(
          "serve " + base.getAuthority(), () -> target.residentKb(base.resolve("/metrics")));
      double capacity = plan.rate() / plan.overload();
      if (plan.rate() <= 0) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "against a server elsewhere, give the rate to offer (--rate): its capacity is not measured here");
      }
      return soak(plan, "HTTP " + base + "/v1/classify", capacity, target, watched);
    }
    watched.put("this process", () -> status(Path.of("/proc/self/status"), "VmRSS:"));
    if (broker == null) {
      try (HttpLoad server = HttpLoad.start(bench)) {
        double capacity =
            plan.rate() > 0
                ? plan.rate() / plan.overload()
                : server.measure(Math.min(plan.connections(), CAPACITY_CALLERS)).ips();
        HttpTarget target = new HttpTarget(server.uri(), plan.connections());
        return soak(plan, "HTTP /v1/classify, embedded", capacity, target, watched);
      }
    }
    if (plan.remoteWorkers()) {
      try (Replies client = broker.client()) {
        return soak(
            plan,
            client.name() + ", workers elsewhere",
            plan.rate() / plan.overload(),
            new BrokerTarget(client),
            watched);
      }
    }
    double capacity =
        plan.rate() > 0
            ? plan.rate() / plan.overload()
            : BrokerPipeline.measure(bench, broker, List.of()).ips();
    try (LocalWorkers running =
            LocalWorkers.onBroker(bench.pipeline(), broker, bench.settings(), 1);
        Replies client = broker.client()) {
      return soak(plan, client.name() + " worker", capacity, new BrokerTarget(client), watched);
    }
  }

  /** Where requests go, and how their answers come back. */
  private interface Target {
    /** Sends one request; its outcome is reported to {@code outcome}, now or later. */
    void send(ImageRequest r, Outcomes outcome) throws Exception;

    /** Hands answers on until {@code running} turns false. */
    default void read(Outcomes outcome, AtomicBoolean running) {}

    /** Whether each request's answer is its response, so that only a response can be missing. */
    default boolean http() {
      return false;
    }
  }

  /** What became of each request. */
  private static final class Outcomes {
    final Map<String, Long> waiting = new ConcurrentHashMap<>();
    final LongAdder accepted = new LongAdder();
    final LongAdder refused = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder answered = new LongAdder();
    final Recorder latency = new Recorder(3);

    void answered(String id, boolean ok) {
      Long made = waiting.remove(id);
      if (made != null) {
        if (ok) {
          answered.increment();
          latency.recordValue(Math.max(1, (System.nanoTime() - made) / 1000));
        } else {
          failed.increment();
        }
      }
    }
  }

  private static Report soak(
      Plan plan, String name, double capacity, Target target, Map<String, LongSupplier> watched)
      throws Exception {
    BenchPlan bench = plan.bench();
    double rate = plan.rate() > 0 ? plan.rate() : capacity * plan.overload();
    double seconds = plan.duration().toMillis() / 1000.0;
    Outcomes outcome = new Outcomes();
    AtomicBoolean reading = new AtomicBoolean(true);
    Thread reader = new Thread(() -> target.read(outcome, reading), "conveyor-soak-results");
    reader.start();
    Histogram latency = new Histogram(3);
    List<Sample> samples = new ArrayList<>();
    Phase phase = new Phase("soak at %.0f req/s".formatted(rate), seconds);
    long start = System.nanoTime();
    long end = start + plan.duration().toNanos();
    long nextSample = start;
    long sent = 0;
    int loadEnd = 0;
    try {
      for (long i = 0; ; i++) {
        long due = start + (long) (i * 1e9 / rate);
        if (due >= end || System.nanoTime() >= end) {
          break; // a load that fell behind (every connection busy) stops on time, having sent less
        }
        long now;
        while ((now = System.nanoTime()) < due) {
          LockSupport.parkNanos(Math.min(due - now, 1_000_000));
        }
        if (now >= nextSample) {
          samples.add(sample(now - start, outcome, watched));
          latency.add(outcome.latency.getIntervalHistogram());
          phase.tick();
          nextSample += 1_000_000_000L;
        }
        ImageRequest r = bench.corpus().request((int) (i % Integer.MAX_VALUE));
        sent++;
        try {
          target.send(r, outcome);
        } catch (ConveyorException e) {
          if (e.code() == ErrorCode.BUSY) {
            outcome.refused.increment();
          } else {
            outcome.failed.increment();
          }
        } catch (RuntimeException e) {
          outcome.failed.increment(); // the broker is away, say: counted, and the load goes on
        }
      }
      phase.done();
      loadEnd = samples.size();
      // what was accepted is answered, however long its queue takes to drain
      Phase.say("draining " + outcome.waiting.size() + " accepted requests");
      // at least the HTTP timeout (60 s) and a little, so that every call has its outcome
      long drainEnd = System.nanoTime() + Math.max(65_000_000_000L, plan.duration().toNanos());
      while (!outcome.waiting.isEmpty() && System.nanoTime() < drainEnd) {
        Thread.sleep(100);
        if (System.nanoTime() >= nextSample) {
          samples.add(sample(System.nanoTime() - start, outcome, watched));
          nextSample += 1_000_000_000L;
        }
      }
    } finally {
      reading.set(false);
      reader.join(10_000);
    }
    samples.add(sample(System.nanoTime() - start, outcome, watched));
    latency.add(outcome.latency.getIntervalHistogram());
    List<Memory> memory = new ArrayList<>();
    for (String process : watched.keySet()) {
      List<Long> rss =
          samples.subList(0, Math.max(1, loadEnd)).stream()
              .map(x -> x.rssKb().get(process))
              .toList();
      memory.add(
          new Memory(
              process,
              rss.get(rss.size() / 10),
              rss.get(rss.size() - 1),
              samples.stream().mapToLong(x -> x.rssKb().get(process)).max().orElse(0)));
    }
    return new Report(
        name,
        capacity,
        rate,
        seconds,
        sent,
        outcome.accepted.sum(),
        outcome.refused.sum(),
        outcome.failed.sum(),
        outcome.answered.sum(),
        target.http() ? 0 : outcome.waiting.size(),
        target.http() ? outcome.waiting.size() : 0,
        latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(50) / 1000.0,
        latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(99) / 1000.0,
        memory,
        samples);
  }

  private static Sample sample(long nanos, Outcomes outcome, Map<String, LongSupplier> watched) {
    Map<String, Long> rss = new LinkedHashMap<>();
    watched.forEach((process, kb) -> rss.put(process, kb.getAsLong()));
    return new Sample(nanos / 1e9, outcome.answered.sum(), outcome.refused.sum(), rss);
  }

  /** A line of a {@code /proc/…/status} file in kB, or 0 where there is none. */
  static long status(Path file, String field) {
    try {
      for (String line : Files.readAllLines(file)) {
        if (line.startsWith(field)) {
          return Long.parseLong(line.substring(field.length()).trim().split("\\s+")[0]);
        }
      }
    } catch (IOException | RuntimeException e) {
      // not Linux, or the process is gone: no figure
    }
    return 0;
  }

  /**
   * POSTs each image to the server, at most {@code connections} at once; 200 is an answer, 429 a
   * refusal, anything else a failure. Sends {@code CONVEYOR_TOKEN} as the bearer token when set.
   */
  private static final class HttpTarget implements Target {
    private final HttpClient client =
        HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final URI uri;
    private final Semaphore connections;
    private final String token = System.getenv("CONVEYOR_TOKEN");

    HttpTarget(URI uri, int connections) {
      this.uri = uri;
      this.connections = new Semaphore(connections);
    }

    @Override
    public boolean http() {
      return true;
    }

    private HttpRequest.Builder request(URI to) {
      HttpRequest.Builder b = HttpRequest.newBuilder(to).timeout(Duration.ofSeconds(60));
      if (token != null && !token.isBlank()) {
        b.header("Authorization", "Bearer " + token.trim());
      }
      return b;
    }

    @Override
    public void send(ImageRequest r, Outcomes outcome) throws InterruptedException {
      HttpRequest post =
          request(uri)
              .header("Content-Type", "application/octet-stream")
              .POST(HttpRequest.BodyPublishers.ofByteArray(r.bytes()))
              .build();
      connections.acquire();
      outcome.waiting.put(r.id(), r.enqueuedNanos());
      client
          .sendAsync(post, HttpResponse.BodyHandlers.discarding())
          .whenComplete(
              (response, failure) -> {
                connections.release();
                int status = response == null ? 0 : response.statusCode();
                if (status == 429) {
                  outcome.waiting.remove(r.id());
                  outcome.refused.increment();
                } else {
                  outcome.accepted.increment();
                  // an answer, good or bad; no answer at all (a failure) is a failure too
                  outcome.answered(r.id(), status == 200);
                }
              });
    }

    /** The server's {@code process_resident_memory_bytes}, from its metrics, in kB. */
    long residentKb(URI metrics) {
      try {
        String text =
            client
                .send(request(metrics).GET().build(), HttpResponse.BodyHandlers.ofString())
                .body();
        for (String line : text.split("\n")) {
          if (line.startsWith("process_resident_memory_bytes ")) {
            return (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1).trim()) >> 10;
          }
        }
      } catch (IOException | RuntimeException e) {
        // no figure this time
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return 0;
    }
  }

  /** Sends through a broker's reply client, refused when its backlog is full. */
  private record BrokerTarget(Replies client) implements Target {
    @Override
    public void send(ImageRequest r, Outcomes outcome) throws InterruptedException {
      outcome.waiting.put(r.id(), r.enqueuedNanos()); // before its answer can come
      try {
        client.send(r, Duration.ZERO);
      } catch (RuntimeException e) {
        outcome.waiting.remove(r.id());
        throw e;
      }
      outcome.accepted.increment();
    }

    @Override
    public void read(Outcomes outcome, AtomicBoolean running) {
      while (running.get()) {
        client.poll(result -> outcome.answered(result.id(), result.isOk()));
      }
    }
  }
}
