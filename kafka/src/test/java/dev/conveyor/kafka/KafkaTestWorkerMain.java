package dev.conveyor.kafka;

import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestWorkers;

/** A worker process for tests that kill workers: {@code KafkaTestWorkerMain URI BATCH DELAY_MS}. */
public final class KafkaTestWorkerMain {
  private KafkaTestWorkerMain() {}

  public static void main(String[] args) throws Exception {
    KafkaConfig address = KafkaConfig.parse(args[0]);
    int batch = Integer.parseInt(args[1]);
    TestWorkers.colour(
        new KafkaTransport(address, batch),
        new KafkaResultSink(address),
        new MeanColourClassifier(32, 32).slow(Long.parseLong(args[2])),
        batch);
    System.out.println("ready");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
