package dev.conveyor.redis;

import dev.conveyor.core.testing.MeanColourClassifier;
import dev.conveyor.core.testing.TestWorkers;

/**
 * A worker process for tests that kill workers: {@code TestWorkerMain URI BATCH DELAY_MS} runs a
 * colour worker on the Redis address until it is killed, each model call taking DELAY_MS.
 */
public final class TestWorkerMain {
  private TestWorkerMain() {}

  public static void main(String[] args) throws Exception {
    RedisConfig address = RedisConfig.parse(args[0]);
    TestWorkers.colour(
        new RedisBroker(address).transport(8),
        new RedisBroker(address).sink(),
        new MeanColourClassifier(32, 32).slow(Long.parseLong(args[2])),
        Integer.parseInt(args[1]));
    System.out.println("ready");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
