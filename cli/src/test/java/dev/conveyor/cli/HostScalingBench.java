package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Requests;
import dev.conveyor.testing.Hosts;
import dev.conveyor.testing.TestProcesses;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;

/**
 * The scaling curve, a benchmark rather than a test (run by {@code scripts/bench-scaling.sh}, not
 * by the suite): 1, 2, 4 and 8 workers, each on a host of its own, on each broker, each worker's
 * model sleeping {@value #MODEL_MS} ms per batch of {@value #BATCH} so that it costs no CPU and one
 * worker's rate is known. Producers on this machine keep the queue full. What limits the rate is
 * then the broker and the workers' coordination with it (and, on a small machine, the CPU they and
 * the producers share). Prints a table and writes the chart to {@code conveyor.scaling.chart}
 * (docs/scaling-hosts.png by default).
 */
@Timeout(1800)
class HostScalingBench {
  static final int MODEL_MS = 50;
  static final int BATCH = 8;
  private static final int[] WORKERS = {1, 2, 4, 8};
  private static final Duration WARM = Duration.ofSeconds(4);
  private static final Duration MEASURED = Duration.ofSeconds(10);

  @TempDir Path dir;

  /** One broker at one fleet size: the rate of results stored, and the machine's CPU meanwhile. */
  record Point(String broker, int workers, double rate, double cpu) {}

  @Test
  void scalingCurve() throws Exception {
    String only = System.getProperty("conveyor.scaling.brokers", "stream,list,postgres,kafka");
    List<Point> points = new ArrayList<>();
    for (String b : only.split(",")) {
      for (int n : WORKERS) {
        points.add(measure(b.strip(), n));
        System.out.println(row(points, points.get(points.size() - 1)));
      }
    }
    StringBuilder table = new StringBuilder();
    table.append(
        String.format(
            "workers on hosts, model %d ms per batch of %d (%.0f images/s per worker at most)%n",
            MODEL_MS, BATCH, 1000.0 * BATCH / MODEL_MS));
    table.append(
        "| broker | workers | results/s | efficiency | machine CPU | CPU ms per result |\n");
    table.append("|---|---:|---:|---:|---:|---:|\n");
    for (Point p : points) {
      table.append(row(points, p)).append('\n');
    }
    System.out.print(table);
    Path chart =
        Path.of(
            System.getProperty(
                "conveyor.scaling.chart",
                Path.of("..", "docs", "scaling-hosts.png")
                    .toAbsolutePath()
                    .normalize()
                    .toString()));
    chart(points, chart);
    System.out.println("chart: " + chart);
    assertThat(points).allMatch(p -> p.rate() > 0);
  }

  /**
   * A table row: rate, efficiency (rate ÷ (n × one worker's rate)), the machine's CPU busy, and its
   * CPU time per result (broker, producers and workers together).
   */
  private static String row(List<Point> points, Point p) {
    double one = one(points, p.broker());
    int cores = Runtime.getRuntime().availableProcessors();
    return String.format(
        Locale.ROOT,
        "| %s | %d | %.0f | %.2f | %.0f%% | %.1f |",
        p.broker(),
        p.workers(),
        p.rate(),
        p.rate() / (p.workers() * one),
        100 * p.cpu(),
        1000 * p.cpu() * cores / p.rate());
  }

  private static double one(List<Point> points, String broker) {
    return points.stream()
        .filter(q -> q.broker().equals(broker) && q.workers() == 1)
        .findFirst()
        .orElseThrow()
        .rate();
  }

  private Point measure(String which, int n) throws Exception {
    Path data = Files.createDirectories(dir.resolve(which + "-" + n));
    Path here = Hosts.logFolder("HostScalingBench", which + "-" + n);
    try (Hosts hosts = Hosts.create(n);
        HostBrokers broker = open(which, data, hosts)) {
      List<Process> workers = new ArrayList<>();
      try {
        for (Hosts.Host h : hosts.all()) {
          workers.add(
              h.start(
                  SleepingWorker.command(broker.workerUri(), MODEL_MS, BATCH),
                  here.resolve(h.name() + ".log")));
        }
        return load(broker, n);
      } finally {
        for (Process p : workers) {
          TestProcesses.kill(p);
        }
      }
    }
  }

  private static HostBrokers open(String which, Path dir, Hosts hosts) throws Exception {
    return switch (which) {
      case "stream", "list" -> HostBrokers.redis(dir, hosts, which);
      case "postgres" -> HostBrokers.postgres(hosts);
      case "kafka" -> HostBrokers.kafka(dir, hosts, 8);
      default -> throw new IllegalArgumentException("no broker " + which);
    };
  }

  /**
   * Keeps about two seconds of the fleet's work queued, from two producer threads, and measures the
   * rate of results stored once every worker has stored some.
   */
  private static Point load(HostBrokers broker, int n) throws Exception {
    List<byte[]> images = FashionPngs.first(8);
    double most = n * 1000.0 * BATCH / MODEL_MS;
    long ahead = (long) Math.max(200, 2 * most);
    AtomicLong sent = new AtomicLong();
    AtomicLong stored = new AtomicLong();
    AtomicBoolean sending = new AtomicBoolean(true);
    List<Thread> producers = new ArrayList<>();
    List<Requests> open = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      Requests producer = Brokers.open(broker.producerUri()).producer();
      open.add(producer);
      int thread = t;
      Thread p =
          new Thread(
              () -> {
                try {
                  for (int i = 0; sending.get(); i++) {
                    if (sent.get() - stored.get() > ahead) {
                      // a producer may hold what it was given until a flush (PostgreSQL's does)
                      producer.flush(Duration.ofSeconds(30));
                      Thread.sleep(5);
                      continue;
                    }
                    producer.send(
                        ImageRequest.ofBytes("p" + thread, images.get(i % 8), null),
                        Duration.ofSeconds(30));
                    sent.incrementAndGet();
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } catch (Exception e) {
                  throw new IllegalStateException(e);
                }
              },
              "producer-" + t);
      p.start();
      producers.add(p);
    }
    try {
      long start = System.nanoTime();
      while (System.nanoTime() - start < WARM.toNanos() || broker.stored() == 0) {
        stored.set(broker.stored());
        assertThat(System.nanoTime() - start)
            .as("results from the fleet")
            .isLessThan(120_000_000_000L);
        Thread.sleep(100);
      }
      long from = broker.stored();
      double[] cpuFrom = cpu();
      long t0 = System.nanoTime();
      while (System.nanoTime() - t0 < MEASURED.toNanos()) {
        stored.set(broker.stored());
        Thread.sleep(100);
      }
      long to = broker.stored();
      double seconds = (System.nanoTime() - t0) / 1e9;
      double[] cpuTo = cpu();
      double busy = (cpuTo[0] - cpuFrom[0]) / (cpuTo[1] - cpuFrom[1]);
      return new Point(broker.name(), n, (to - from) / seconds, busy);
    } finally {
      sending.set(false);
      for (Thread p : producers) {
        p.join(30_000);
      }
      for (Requests r : open) {
        r.close();
      }
    }
  }

  /** The machine's busy and total CPU time so far, from {@code /proc/stat}. */
  private static double[] cpu() throws Exception {
    String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
    double total = 0;
    for (int i = 1; i < f.length; i++) {
      total += Double.parseDouble(f[i]);
    }
    double idle = Double.parseDouble(f[4]) + Double.parseDouble(f[5]);
    return new double[] {total - idle, total};
  }

  private static void chart(List<Point> points, Path png) throws Exception {
    XYChart chart =
        new XYChartBuilder()
            .width(720)
            .height(440)
            .title(
                "Workers on separate hosts, model %d ms per batch of %d: results/s"
                    .formatted(MODEL_MS, BATCH))
            .xAxisTitle("workers (one per host)")
            .yAxisTitle("results / s")
            .build();
    chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
    chart.getStyler().setXAxisDecimalPattern("0");
    Map<String, List<Point>> byBroker = new LinkedHashMap<>();
    for (Point p : points) {
      byBroker.computeIfAbsent(p.broker(), k -> new ArrayList<>()).add(p);
    }
    List<Double> ns = new ArrayList<>();
    for (int n : WORKERS) {
      ns.add((double) n);
    }
    chart.addSeries(
        "ideal (n × the model's rate)",
        ns,
        ns.stream().map(n -> n * 1000.0 * BATCH / MODEL_MS).toList());
    byBroker.forEach(
        (name, ps) ->
            chart.addSeries(
                name,
                ps.stream().map(p -> (double) p.workers()).toList(),
                ps.stream().map(Point::rate).toList()));
    Files.createDirectories(png.toAbsolutePath().getParent());
    BitmapEncoder.saveBitmap(chart, png.toString(), BitmapEncoder.BitmapFormat.PNG);
  }
}
