package dev.conveyor.bench;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * The load of a soak: requests offered to a target at a fixed rate for the plan's duration,
 * whatever comes back, then a wait while what was accepted drains. Progress and the watched
 * processes' memory are sampled once a second; what became of every request makes the report.
 */
final class FixedRateLoad {
  private static final long SECOND = 1_000_000_000L;

  private final Soak.Plan plan;
  private final SoakTarget target;
  private final WatchedMemory watched;
  private final SoakOutcomes outcome = new SoakOutcomes();
  private final Histogram latency = new Histogram(3);
  private final List<Soak.Sample> samples = new ArrayList<>();
  private long start;
  private long nextSample;

  private FixedRateLoad(Soak.Plan plan, SoakTarget target, WatchedMemory watched) {
    this.plan = plan;
    this.target = target;
    this.watched = watched;
  }

  /**
   * Offers the load and reports on it.
   *
   * @param name the target, as the report names it
   * @param capacity the target's capacity, measured or given, in requests per second
   */
  static Soak.Report run(
      Soak.Plan plan, String name, double capacity, SoakTarget target, WatchedMemory watched)
      throws Exception {
    return new FixedRateLoad(plan, target, watched).run(name, capacity);
  }

  private Soak.Report run(String name, double capacity) throws Exception {
    double rate = plan.rate() > 0 ? plan.rate() : capacity * plan.overload();
    double seconds = plan.duration().toMillis() / 1000.0;
    AtomicBoolean reading = new AtomicBoolean(true);
    Thread reader = new Thread(() -> target.read(outcome, reading), "conveyor-soak-results");
    reader.start();
    long sent;
    int loadEnd;
    try {
      sent = offer(rate, seconds);
      loadEnd = samples.size();
      drain();
    } finally {
      reading.set(false);
      reader.join(10_000);
    }
    samples.add(sample());
    latency.add(outcome.latency.getIntervalHistogram());
    return new Soak.Report(
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
        watched.over(samples, loadEnd),
        samples);
  }

  /** Sends at {@code rate} until the plan's duration is over; returns how many were sent. */
  private long offer(double rate, double seconds) throws Exception {
    Phase phase = new Phase("soak at %.0f req/s".formatted(rate), seconds);
    start = System.nanoTime();
    long end = start + plan.duration().toNanos();
    nextSample = start;
    long sent = 0;
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
        samples.add(sample(now));
        latency.add(outcome.latency.getIntervalHistogram());
        phase.tick();
        nextSample += SECOND;
      }
      ImageRequest r = plan.bench().corpus().request((int) (i % Integer.MAX_VALUE));
      sent++;
      send(r);
    }
    phase.done();
    return sent;
  }

  /** Sends one request, counting a refusal or a failure to send. */
  private void send(ImageRequest r) throws Exception {
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

  /**
   * Waits until what was accepted is answered, however long its queue takes to drain: at least the
   * HTTP timeout (60 s) and a little, so that every call has its outcome.
   */
  private void drain() throws InterruptedException {
    Phase.say("draining " + outcome.waiting.size() + " accepted requests");
    long drainEnd = System.nanoTime() + Math.max(65_000_000_000L, plan.duration().toNanos());
    while (!outcome.waiting.isEmpty() && System.nanoTime() < drainEnd) {
      Thread.sleep(100);
      if (System.nanoTime() >= nextSample) {
        samples.add(sample());
        nextSample += SECOND;
      }
    }
  }

  private Soak.Sample sample() {
    return sample(System.nanoTime());
  }

  private Soak.Sample sample(long now) {
    return new Soak.Sample(
        (now - start) / 1e9, outcome.answered.sum(), outcome.refused.sum(), watched.read());
  }
}
