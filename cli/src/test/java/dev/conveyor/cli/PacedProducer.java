package dev.conveyor.cli;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Requests;
import dev.conveyor.testing.TestProcesses;
import java.time.Duration;
import java.util.List;

/**
 * A producer process for tests on {@link dev.conveyor.testing.Hosts}: sends Fashion-MNIST requests
 * at a steady rate through Conveyor's own producer, each sent and flushed before the next, and
 * prints one line per request: {@code acked ID MS} once the broker has it, or {@code failed ID MS
 * CODE} when it refused or could not be reached, {@code MS} being how long the call took. Runs
 * until killed.
 *
 * <p>Arguments: the transport's URI, requests per second, the most seconds one send may wait.
 */
public final class PacedProducer {
  private PacedProducer() {}

  public static void main(String[] args) throws Exception {
    String uri = args[0];
    double rate = Double.parseDouble(args[1]);
    Duration wait = Duration.ofSeconds(Long.parseLong(args[2]));
    List<byte[]> images = FashionPngs.first(8);
    try (Requests producer = Brokers.open(uri).producer()) {
      long start = System.nanoTime();
      for (int i = 0; ; i++) {
        ImageRequest r = ImageRequest.ofBytes("paced", images.get(i % 8), null);
        long t0 = System.nanoTime();
        String outcome;
        try {
          producer.send(r, wait);
          List<Requests.Failure> failed = producer.flush(wait);
          outcome = failed.isEmpty() ? "acked" : "failed";
          if (!failed.isEmpty()) {
            outcome += " " + failed.get(0).error().code();
          }
        } catch (ConveyorException e) {
          outcome = "failed " + e.code();
        }
        long ms = (System.nanoTime() - t0) / 1_000_000;
        String[] words = outcome.split(" ");
        System.out.println(
            words[0] + " " + r.id() + " " + ms + (words.length > 1 ? " " + words[1] : ""));
        System.out.flush();
        long next = start + (long) ((i + 1) * 1e9 / rate);
        Thread.sleep(Math.max(0, (next - System.nanoTime()) / 1_000_000));
      }
    }
  }

  /** The command that starts one, with this JVM's Java and class path. */
  public static List<String> command(String uri, double rate, int waitSeconds) {
    return TestProcesses.javaCommand(
        SleepingWorker.JVM,
        PacedProducer.class.getName(),
        List.of(uri, Double.toString(rate), Integer.toString(waitSeconds)));
  }
}
