package dev.conveyor.redis;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.testing.Await;
import dev.conveyor.testing.Hosts;
import dev.conveyor.testing.Ports;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.resource.EpollProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A Redis connection across a silent network partition ({@link Hosts}: Redis on a host of its own,
 * every packet to it dropped, then let through again). TCP alone would keep the connection for
 * about 15 minutes, retransmitting with a backoff that reaches two minutes, so a client could stay
 * away long after the network is back; Conveyor's connections are dropped once data goes
 * unacknowledged for the command timeout, and reconnect within about 2 s of the heal.
 */
@Timeout(120)
class RedisPartitionIT {
  private Hosts hosts;

  @AfterEach
  void stop() {
    if (hosts != null) {
      hosts.close();
    }
  }

  @Test
  void aConnectionTheNetworkLostIsDroppedDuringTheCutAndBackSoonAfterTheHeal() throws Exception {
    assertThat(EpollProvider.isAvailable()).as("Lettuce's epoll transport").isTrue();
    hosts = Hosts.create(1);
    Hosts.Host server = hosts.host(1);
    int port = Ports.free();
    Path logs = Hosts.logFolder(getClass().getSimpleName());
    server.start(
        List.of(
            "/usr/bin/redis-server",
            "--bind",
            server.address(),
            "--port",
            Integer.toString(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--protected-mode",
            "no"),
        logs.resolve("redis.log"));
    RedisConfig address = RedisConfig.parse("redis://" + server.address() + ":" + port);
    Await.until(() -> ping(address), Duration.ofSeconds(30), "Redis up on host 1");
    try (RedisConnections redis = new RedisConnections(address)) {
      byte[] key = "k".getBytes(StandardCharsets.UTF_8);
      redis.sync().set(key, "before".getBytes(StandardCharsets.UTF_8));

      server.dropIncoming(true);
      long cut = System.nanoTime();
      // a command sent into the cut: its data is never acknowledged
      RedisFuture<byte[]> lost = redis.connection().async().get(key);
      Await.until(
          () -> !redis.connection().isOpen(),
          Duration.ofSeconds(20),
          "the connection dropped during the cut");
      double dropped = (System.nanoTime() - cut) / 1e9;
      assertThat(lost.await(5, TimeUnit.SECONDS))
          .as("the command sent into the cut ended")
          .isTrue();
      // a few reconnect attempts into the cut, each failing
      Thread.sleep(Math.max(0, 20_000 - (System.nanoTime() - cut) / 1_000_000));

      server.dropIncoming(false);
      long healed = System.nanoTime();
      Await.until(
          () -> {
            try {
              return "before".equals(new String(redis.sync().get(key), StandardCharsets.UTF_8));
            } catch (RuntimeException refused) {
              return false;
            }
          },
          Duration.ofSeconds(10),
          "the same client answered again after the heal");
      double back = (System.nanoTime() - healed) / 1e9;
      System.out.printf(
          "Redis across a silent partition of %.1f s: the connection dropped %.1f s after the cut"
              + " (command timeout 10 s), the client answered again %.1f s after the heal%n",
          (healed - cut) / 1e9, dropped, back);
      assertThat(back).as("seconds from the heal to an answer").isLessThan(5);
    }
  }

  private static boolean ping(RedisConfig address) {
    try (RedisConnections c = new RedisConnections(address)) {
      return "PONG".equals(c.sync().ping());
    } catch (RuntimeException notYet) {
      return false;
    }
  }
}
