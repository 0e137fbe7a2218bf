package dev.conveyor.bench;

import dev.conveyor.assembly.LocalWorkers;
import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Replies;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Overload held for a long time: the pipeline's capacity is measured first, then requests are
 * offered at a multiple of it (2× by default), at a fixed rate whatever comes back, against the
 * HTTP server over embedded workers, or through a broker to a worker. It reports the share refused
 * ({@code 429}, {@code BUSY}), the latency of what was accepted, whether everything accepted was
 * answered (after the load stops, what is queued is drained), and this process's resident memory
 * over the run, which must stay flat. Server, workers and load all run in this one process.
 *
 * <p>This class holds the plan and the report, and picks the target; {@link FixedRateLoad} offers
 * the load to a {@link SoakTarget} and {@link WatchedMemory} reads the processes' memory.
 */
public final class Soak {
  /** Callers enough to fill the server's batches: its capacity is its throughput with them. */
  private static final int CAPACITY_CALLERS = 256;

  private Soak() {}

  /**
   * A soak's duration as given on a command line: {@code 90s}, {@code 10m}, {@code 1h} or plain
   * seconds.
   *
   * @throws ConveyorException {@code INVALID_SETTING} for anything else
   */
  public static Duration duration(String text) {
    java.util.regex.Matcher m =
        java.util.regex.Pattern.compile("(\\d+(?:\\.\\d+)?)([smh]?)").matcher(text.trim());
    if (!m.matches()) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "--soak takes a duration such as 90s, 10m or 1h");
    }
    double unit =
        switch (m.group(2)) {
          case "m" -> 60;
          case "h" -> 3600;
          default -> 1;
        };
    return Duration.ofMillis(Math.round(Double.parseDouble(m.group(1)) * unit * 1000));
  }

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
              .collect(Collectors.joining("\n")),
          "");
    }
  }

  /** Runs the soak; progress on stderr. */
  public static Report run(Plan plan) throws Exception {
    BenchPlan bench = plan.bench();
    WatchedMemory watched = new WatchedMemory();
    for (long pid : plan.watch()) {
      watched.add(pid);
    }
    Broker broker =
        bench
            .broker()
            .map(uri -> Brokers.open(uri, PipelineSettings.brokerOverrides(bench.settings())))
            .orElse(null);
    if (broker == null && plan.url().isPresent()) {
      URI base = plan.url().get();
      HttpSoakTarget target = new HttpSoakTarget(base.resolve("/v1/classify"), plan.connections());
      watched.add(
          "serve " + base.getAuthority(), () -> target.residentKb(base.resolve("/metrics")));
      double capacity = plan.rate() / plan.overload();
      if (plan.rate() <= 0) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "against a server elsewhere, give the rate to offer (--rate): its capacity is not measured here");
      }
      return FixedRateLoad.run(plan, "HTTP " + base + "/v1/classify", capacity, target, watched);
    }
    watched.addThisProcess();
    if (broker == null) {
      try (HttpLoad server = HttpLoad.start(bench)) {
        double capacity =
            plan.rate() > 0
                ? plan.rate() / plan.overload()
                : server.measure(Math.min(plan.connections(), CAPACITY_CALLERS)).ips();
        HttpSoakTarget target = new HttpSoakTarget(server.uri(), plan.connections());
        return FixedRateLoad.run(plan, "HTTP /v1/classify, embedded", capacity, target, watched);
      }
    }
    if (plan.remoteWorkers()) {
      try (Replies client = broker.client()) {
        return FixedRateLoad.run(
            plan,
            client.name() + ", workers elsewhere",
            plan.rate() / plan.overload(),
            new BrokerSoakTarget(client),
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
      return FixedRateLoad.run(
          plan, client.name() + " worker", capacity, new BrokerSoakTarget(client), watched);
    }
  }
}
