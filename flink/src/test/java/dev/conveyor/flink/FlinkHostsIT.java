package dev.conveyor.flink;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.testing.Await;
import dev.conveyor.testing.Hosts;
import dev.conveyor.testing.KafkaServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A standalone Flink cluster across hosts ({@link Hosts}: network namespaces on one machine): the
 * JobManager on host 1, a TaskManager on each of hosts 2 and 3, Kafka on the machine's own
 * namespace. The job runs with parallelism 2, spread over both TaskManagers, each with room for the
 * whole job. Host 2 is cut off mid-stream: the JobManager must miss its heartbeats, restart the job
 * from its last checkpoint on host 3 alone, and every request must be answered.
 */
@Timeout(400)
class FlinkHostsIT {
  private static final int REQUESTS = 1200;

  @TempDir Path dir;
  private Hosts hosts;
  private KafkaServer kafka;
  private FlinkCluster cluster;
  private Path flink;

  @AfterEach
  void stop() throws Exception {
    if (cluster != null) {
      cluster.close();
    }
    if (hosts != null) {
      hosts.close();
    }
    if (kafka != null) {
      kafka.close();
    }
  }

  @Test
  void aTaskManagerHostCutOffRestartsTheJobFromItsCheckpointOnTheOther() throws Exception {
    hosts = Hosts.create(3);
    // the cluster's folder, its logs kept after the run under target/host-logs
    flink = Hosts.logFolder("FlinkHostsIT").toAbsolutePath();
    kafka = KafkaServer.start(Files.createDirectories(dir.resolve("kafka")), hosts.gateway());
    cluster =
        FlinkCluster.startOn(
            flink,
            2,
            hosts.host(1),
            List.of(hosts.host(2), hosts.host(3)),
            "heartbeat.interval: 1000",
            "heartbeat.timeout: 8000",
            "taskmanager.load-balance.mode: slots",
            "restart-strategy.type: fixed-delay",
            "restart-strategy.fixed-delay.attempts: 1000",
            "restart-strategy.fixed-delay.delay: 1 s");
    Process run =
        cluster.flink(
            "run",
            "run",
            "-d",
            "-p",
            "2",
            "-c",
            "dev.conveyor.flink.ClassifyJob",
            StandaloneClusterIT.JOB_JAR.toAbsolutePath().toString(),
            "--source",
            kafka.uriAt("topic=jobs&partitions=2&group=job"),
            "--sink",
            kafka.uriAt("results=answers"),
            "--model",
            ClassifyOperatorTest.MODEL,
            "--batch",
            "8",
            "--checkpoint-ms",
            "1000",
            "--checkpoints",
            dir.resolve("checkpoints").toString());
    assertThat(run.waitFor(120, TimeUnit.SECONDS)).as("flink run -d returned").isTrue();
    assertThat(run.exitValue()).as(Files.readString(flink.resolve("run.err"))).isZero();
    String job = only(get("/jobs").get("jobs")).get("id").asText();
    try {
      Await.until(
          () ->
              taskManagers(true).size() == 2
                  && get("/jobs/" + job).path("state").asText().equals("RUNNING"),
          Duration.ofSeconds(60),
          "the job's tasks on both TaskManagers");
    } catch (AssertionError e) {
      throw new AssertionError(
          e.getMessage()
              + ": "
              + get("/jobs/" + job).path("state")
              + " "
              + get("/jobs/" + job + "/exceptions").toString().substring(0, 3000),
          e);
    }

    List<ImageRequest> all = FlinkTesting.requests(REQUESTS);
    FlinkTesting.send(kafka.uri("topic=jobs&partitions=2"), all.subList(0, REQUESTS / 2));
    Await.until(
        () -> kafka.keys("answers", false).size() >= REQUESTS / 4,
        Duration.ofSeconds(120),
        "results flowing");
    hosts.host(2).cut();
    long cut = System.nanoTime();
    // the other half while host 2 is away: for the job restarted on host 3 alone
    FlinkTesting.send(kafka.uri("topic=jobs&partitions=2"), all.subList(REQUESTS / 2, REQUESTS));
    try {
      Await.until(
          () -> restarts(job) >= 1 && taskManagers(true).equals(List.of(hosts.host(3).address())),
          Duration.ofSeconds(120),
          "the job restarted on host 3");
    } catch (AssertionError e) {
      throw new AssertionError(
          e.getMessage() + ": " + restarts(job) + " restarts, running on " + taskManagers(true), e);
    }
    double restarted = (System.nanoTime() - cut) / 1e9;
    Await.until(
        () -> kafka.keys("answers", false).size() >= REQUESTS,
        Duration.ofSeconds(180),
        "every request answered");
    double answered = (System.nanoTime() - cut) / 1e9;
    hosts.host(2).heal();
    long healed = System.nanoTime();
    Await.until(
        () -> taskManagers(false).contains(hosts.host(2).address()),
        Duration.ofSeconds(90),
        "host 2's TaskManager registered again after the heal");
    double rejoined = (System.nanoTime() - healed) / 1e9;

    Map<String, Integer> results = kafka.keys("answers", false);
    int duplicates = results.values().stream().mapToInt(n -> n - 1).sum();
    JsonNode checkpoints = get("/jobs/" + job + "/checkpoints");
    JsonNode restored = checkpoints.at("/latest/restored");
    System.out.printf(
        "hosts, Flink: JobManager, 2 TaskManagers on hosts of their own, the host of one cut off:"
            + " %d requests, the job restarted on the other %.1f s after the cut (heartbeat"
            + " timeout 8 s) from checkpoint %s (%d completed), %d restarts, all answered %.1f"
            + " s after the cut, 0 lost, %d duplicates (results after that checkpoint, written"
            + " again); the healed TaskManager registered again %.1f s after the heal%n",
        REQUESTS,
        restarted,
        restored.path("id").asText("none"),
        checkpoints.at("/counts/completed").asLong(),
        restarts(job),
        answered,
        duplicates,
        rejoined);
    assertThat(restored.path("id").asLong(0))
        .as("the checkpoint the job restarted from: %s", failures(job))
        .isPositive();
    assertThat(results.keySet())
        .containsExactlyInAnyOrderElementsOf(all.stream().map(ImageRequest::id).toList());
  }

  /**
   * The addresses of the TaskManagers registered, sorted; with {@code busy}, only those running
   * tasks (slots in use: this cluster runs one job).
   */
  private List<String> taskManagers(boolean busy) throws Exception {
    TreeSet<String> at = new TreeSet<>();
    for (JsonNode tm : get("/taskmanagers").get("taskmanagers")) {
      if (!busy || tm.path("freeSlots").asInt() < tm.path("slotsNumber").asInt()) {
        Matcher m = Pattern.compile("@([0-9.]+):").matcher(tm.path("path").asText());
        assertThat(m.find()).as(tm.toString()).isTrue();
        at.add(m.group(1));
      }
    }
    return List.copyOf(at);
  }

  /** The distinct failures the job restarted after, each its first line. */
  private Set<String> failures(String job) throws Exception {
    Set<String> out = new TreeSet<>();
    for (JsonNode e :
        get("/jobs/" + job + "/exceptions").path("exceptionHistory").path("entries")) {
      out.add(
          e.path("stacktrace").asText().lines().findFirst().orElse("")
              + " @ "
              + e.path("taskManagerLocation").asText());
    }
    return out;
  }

  /**
   * How many failures the job has restarted after, from its exception history (the REST API's
   * restart metric is refreshed only every few seconds).
   */
  private long restarts(String job) throws Exception {
    return get("/jobs/" + job + "/exceptions").path("exceptionHistory").path("entries").size();
  }

  private static JsonNode only(JsonNode array) {
    assertThat(array).hasSize(1);
    return array.get(0);
  }

  private JsonNode get(String path) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create(cluster.restUrl() + path))
                    .timeout(Duration.ofSeconds(30))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return Json.mapper().readTree(r.body());
  }
}
