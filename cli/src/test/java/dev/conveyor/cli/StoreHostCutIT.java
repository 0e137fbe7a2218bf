package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.Requests;
import dev.conveyor.testing.Await;
import dev.conveyor.testing.Hosts;
import dev.conveyor.testing.RedisServer;
import dev.conveyor.testing.S3Server;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The S3-compatible store's host cut off for 20 s while a worker on another host classifies
 * requests that name their images by reference ({@code s3://shirts/…}) through a Redis stream that
 * stays reachable. A fetch that cannot reach the store must end within {@code --fetch-timeout} as
 * the request's {@code FETCH_FAILED} result, never a hung or dead worker; every request must be
 * answered; and the worker must fetch and classify again as soon as the store is back.
 */
@Timeout(240)
class StoreHostCutIT {
  private static final Path ROOT =
      Path.of(System.getProperty("conveyor.home", "..")).toAbsolutePath().normalize();

  /** The seconds a worker waits for one referenced image. */
  private static final int FETCH_TIMEOUT = 5;

  @TempDir Path dir;
  private Hosts hosts;
  private RedisServer redis;
  private S3Server s3;

  @AfterEach
  void stop() throws Exception {
    if (hosts != null) {
      hosts.close();
    }
    if (s3 != null) {
      s3.close();
    }
    if (redis != null) {
      redis.close();
    }
  }

  @Test
  void fetchesFromAStoreCutOffFailWithinTheirTimeoutAndResumeAfterTheHeal() throws Exception {
    hosts = Hosts.create(2);
    Hosts.Host store = hosts.host(1);
    Hosts.Host worker = hosts.host(2);
    Path logs = Hosts.logFolder(getClass().getSimpleName());
    redis =
        RedisServer.start(
            Files.createDirectories(dir.resolve("redis")),
            RedisServer.Options.plain().alsoOn(hosts.gateway()));
    s3 = S3Server.start(Files.createDirectories(dir.resolve("s3")), store);
    // the objects, written where s3proxy's file-system store keeps them
    Path bucket = Files.createDirectories(s3.bucketFolder("shirts"));
    List<byte[]> pngs = FashionPngs.first(8);
    for (int i = 0; i < pngs.size(); i++) {
      Files.write(bucket.resolve("item-" + i + ".png"), pngs.get(i));
    }
    List<String> command =
        new ArrayList<>(
            List.of(
                "env",
                "AWS_ACCESS_KEY_ID=" + S3Server.ACCESS_KEY,
                "AWS_SECRET_ACCESS_KEY=" + S3Server.SECRET_KEY,
                ROOT.resolve("conveyor").toString(),
                "worker",
                "--transport",
                redis.uriAt(hosts.gateway(), "mode=stream"),
                "--fetch-allow",
                "s3://shirts",
                "--fetch-timeout",
                Integer.toString(FETCH_TIMEOUT),
                "--s3-endpoint",
                s3.endpoint(),
                "--s3-path-style",
                "--s3-region",
                "us-east-1",
                "--batch",
                "4"));
    Process workerProcess = worker.start(command, logs.resolve("worker.log"));

    try (Requests producer = Brokers.open(redis.uri("mode=stream")).producer()) {
      int n = 0;
      // before the cut: the store reached
      for (; n < 16; n++) {
        send(producer, n);
      }
      Await.until(
          () -> results().size() >= 16, Duration.ofSeconds(120), "the first requests answered");
      store.cut();
      long cut = System.nanoTime();
      // during the cut, a request a second
      while (System.nanoTime() - cut < 17_000_000_000L) {
        send(producer, n++);
        Thread.sleep(1000);
      }
      int duringCut = n;
      Thread.sleep(Math.max(0, 20_000 - (System.nanoTime() - cut) / 1_000_000));
      store.heal();
      for (int end = n + 16; n < end; n++) {
        send(producer, n);
      }
      int sent = n;
      Await.until(() -> results().size() >= sent, Duration.ofSeconds(90), "every request answered");

      Map<String, JsonNode> results = results();
      int failed = 0;
      int classified = 0;
      double slowestFailure = 0;
      for (int i = 16; i < duringCut; i++) {
        JsonNode r = results.get("r" + i);
        if (r.path("error").isObject()) {
          assertThat(r.at("/error/code").asText()).as("r%d's error", i).isEqualTo("FETCH_FAILED");
          failed++;
          slowestFailure = Math.max(slowestFailure, r.path("latency_ms").asDouble() / 1000);
        } else {
          classified++;
        }
      }
      int afterHeal = 0;
      for (int i = duringCut; i < sent; i++) {
        if (!results.get("r" + i).path("error").isObject()) {
          afterHeal++;
        }
      }
      System.out.printf(
          Locale.ROOT,
          "hosts, the S3 store's host cut off 20 s: %d requests by reference, all answered; %d"
              + " sent during the cut, %d of them FETCH_FAILED (the slowest in %.1f s, fetch"
              + " timeout %d s) and %d classified (fetched once the store was back); %d sent after"
              + " the heal, %d of them classified%n",
          sent,
          duringCut - 16,
          failed,
          slowestFailure,
          FETCH_TIMEOUT,
          classified,
          sent - duringCut,
          afterHeal);
      assertThat(workerProcess.isAlive()).as("the worker after the cut").isTrue();
      assertThat(failed).as("requests whose fetch met the cut").isPositive();
      assertThat(slowestFailure)
          .as("seconds until a fetch into the cut gave up")
          .isLessThan(FETCH_TIMEOUT + 5);
      for (int i = 0; i < 16; i++) {
        assertThat(results.get("r" + i).path("error").isObject()).as("r%d", i).isFalse();
      }
      assertThat(afterHeal)
          .as("requests sent after the heal, classified")
          .isEqualTo(sent - duringCut);
    }
  }

  private static void send(Requests producer, int i) throws Exception {
    ImageRequest r =
        new ImageRequest(
            "r" + i, "s3://shirts/item-" + (i % 8) + ".png", null, null, null, System.nanoTime());
    producer.send(r, Duration.ofSeconds(10));
  }

  /** Every result in the results stream, by request id. */
  private Map<String, JsonNode> results() throws Exception {
    Map<String, JsonNode> out = new HashMap<>();
    List<String> lines = redis.cli("XRANGE", "conveyor:results", "-", "+");
    for (int i = 0; i + 1 < lines.size(); i++) {
      if (lines.get(i).equals("result")) {
        JsonNode r = Json.mapper().readTree(lines.get(i + 1));
        out.put(r.path("id").asText(), r);
      }
    }
    return out;
  }
}
