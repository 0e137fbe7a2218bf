package dev.conveyor.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.testing.TestImages;
import dev.conveyor.testing.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What a producer was told was queued, and what Redis still holds after it is killed with SIGKILL
 * mid-run and started again, for each append-only policy. Redis writes its append-only file before
 * it answers, so a killed process (as opposed to a lost machine, which {@code everysec} can cost up
 * to a second of writes) loses nothing acknowledged with either policy; without the file it loses
 * everything, which shows the check can see a loss.
 */
@Timeout(120)
class RedisDurabilityIT {
  @TempDir Path dir;

  @ParameterizedTest(name = "appendfsync {0}")
  @ValueSource(strings = {"always", "everysec", "no-aof"})
  void whatAProducerWasToldIsQueuedSurvivesRedisBeingKilled(String policy) throws Exception {
    RedisServer.Options options =
        policy.equals("no-aof")
            ? RedisServer.Options.plain()
            : RedisServer.Options.plain().appendOnly(policy);
    try (RedisServer server = RedisServer.start(dir, options)) {
      RedisConfig address = RedisConfig.parse(server.uri("mode=list&max-length=1000000"));
      Map<String, Long> acknowledged = new ConcurrentHashMap<>();
      AtomicBoolean sending = new AtomicBoolean(true);
      byte[] image = TestImages.bytes("palette-blue.png");
      Thread producer =
          new Thread(
              () -> {
                try (RedisRequests requests = new RedisBroker(address).producer()) {
                  while (sending.get()) {
                    ImageRequest r = ImageRequest.ofBytes("blue", image, null);
                    try {
                      requests.send(r, Duration.ofSeconds(1));
                      acknowledged.put(r.id(), System.nanoTime());
                    } catch (RuntimeException refused) {
                      // Redis is away: not acknowledged, so not promised
                    }
                  }
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } catch (RuntimeException gone) {
                  // closing while Redis is away
                }
              });
      producer.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (acknowledged.size() < 3000) {
        assertThat(System.nanoTime()).as("requests sent").isLessThan(deadline);
        Thread.sleep(5);
      }
      server.kill(); // SIGKILL, mid-run: the producer is still sending
      long killed = System.nanoTime();
      sending.set(false);
      producer.join(30_000);
      server.launchAgain();

      Set<String> held = new HashSet<>();
      try (RedisConnections c = new RedisConnections(address)) {
        for (byte[] m : c.sync().lrange(RequestCodec.bytes(address.images()), 0, -1)) {
          held.add(RequestCodec.fromJson(m).id());
        }
      }
      Set<String> lost = new HashSet<>(acknowledged.keySet());
      lost.removeAll(held);
      long window = lost.stream().mapToLong(acknowledged::get).map(t -> killed - t).max().orElse(0);
      System.out.printf(
          "Redis SIGKILL, %s: %d acknowledged, %d held after the restart, %d lost (acknowledged up"
              + " to %.0f ms before the kill)%n",
          policy, acknowledged.size(), held.size(), lost.size(), window / 1e6);
      if (policy.equals("no-aof")) {
        assertThat(lost).as("without an append-only file").hasSameSizeAs(acknowledged.keySet());
      } else {
        assertThat(lost).as("acknowledged, then lost").isEmpty();
      }
    }
  }
}
