package dev.conveyor.flink;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.engine.JobPlan;
import dev.conveyor.core.transport.Brokers;
import dev.conveyor.kafka.KafkaConfig;
import dev.conveyor.kafka.Topics;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.kafka.clients.producer.ProducerRecord;

/**
 * Where the job's results go, from the {@code sink} setting. Every sink writes the result JSON of
 * every other Conveyor path, and is at least once: what it holds is written within {@code
 * sink-linger-ms}, and before each checkpoint completes. With {@code delivery=exactly-once} on a
 * broker sink's URI, each request has one result however often the job restarts from a checkpoint:
 * Kafka's in a transaction per checkpoint (committed when the checkpoint completes, so readers that
 * read committed see each result once), Redis's and PostgreSQL's idempotent by request id (a result
 * whose request has one stored already is not stored again; PostgreSQL's always is). Without
 * checkpoints, Conveyor's own sinks (a broker's, a folder's, and the client for {@code -})
 * acknowledge a Redis stream source's entries once they have stored their results.
 *
 * <ul>
 *   <li>{@code -}: back to the client that submitted the job, one JSON line each;
 *   <li>{@code kafka://…}: Flink's {@code KafkaSink} to the results topic, keyed by request id, and
 *       to a request's {@code reply-to} topic when it lies in the reply namespace ({@code
 *       reply-prefix}), as the Kafka result sink of workers sends it; the producer sends within its
 *       own {@code linger.ms};
 *   <li>any other broker URI ({@code redis://…}): that broker's result sink, as {@code worker}
 *       writes it (Redis: result keys, reply lists, the results stream);
 *   <li>a folder: JSON lines appended to one file per parallel task ({@code results-*.jsonl}) in
 *       the folder itself ({@link JsonLinesSink}).
 * </ul>
 */
final class JobSinks {
  private JobSinks() {}

  /** Whether the sink is a broker whose URI asks for {@code delivery=exactly-once}. */
  static boolean exactlyOnce(String sink) {
    return !sink.equals(JobPlan.STDOUT)
        && !JobPlan.isFolder(sink)
        && Brokers.open(sink).exactlyOnce();
  }

  /** Whether the sink can acknowledge a Redis stream source's entries once it has their results. */
  static boolean acknowledges(String sink) {
    return !KafkaConfig.handles(sink);
  }

  /**
   * Sends the results to the sink; {@code -} is the client's to collect.
   *
   * @param lingerMillis the longest a result waits in the sink before it is written
   * @param acksTo the Redis stream source whose entries the sink acknowledges once their results
   *     are stored (without checkpoints), or {@code null}
   * @param transactions the prefix of an exactly-once Kafka sink's transactional ids, unique to the
   *     job
   */
  static void attach(
      DataStream<Classified> results,
      String sink,
      long lingerMillis,
      String acksTo,
      String transactions) {
    if (sink.equals(JobPlan.STDOUT)) {
      throw new IllegalArgumentException("the client collects results for '-'");
    }
    if (acksTo != null && !acknowledges(sink)) {
      throw new IllegalArgumentException(sink + " cannot acknowledge a source's entries");
    }
    if (KafkaConfig.handles(sink)) {
      KafkaConfig address = KafkaConfig.parse(sink);
      Topics.ensure(address);
      String topic = address.results();
      String replyPrefix = address.replyPrefix();
      results
          .flatMap(
              (Classified c, org.apache.flink.util.Collector<Outgoing> out) -> {
                byte[] json = c.json().getBytes(StandardCharsets.UTF_8);
                out.collect(new Outgoing(topic, c.id(), json));
                if (KafkaConfig.inReplyNamespace(replyPrefix, c.replyTo())) {
                  out.collect(new Outgoing(c.replyTo(), c.id(), json));
                }
              })
          .returns(Outgoing.class)
          .name("to Kafka records")
          .sinkTo(
              KafkaSink.<Outgoing>builder()
                  .setBootstrapServers(address.bootstrap())
                  .setKafkaProducerConfig(producerProperties(address))
                  .setRecordSerializer(
                      (o, context, timestamp) ->
                          new ProducerRecord<>(
                              o.topic(), o.key().getBytes(StandardCharsets.UTF_8), o.value()))
                  .setDeliveryGuarantee(
                      address.exactlyOnce()
                          ? DeliveryGuarantee.EXACTLY_ONCE
                          : DeliveryGuarantee.AT_LEAST_ONCE)
                  .setTransactionalIdPrefix(transactions)
                  .build())
          .name(address.describe())
          .uid("conveyor-kafka-sink");
    } else if (!JobPlan.isFolder(sink)) {
      results
          .sinkTo(new BrokerSink(sink, lingerMillis, acksTo))
          .name(Brokers.open(sink).describe())
          .uid("conveyor-sink");
    } else {
      Path folder = JobPlan.folder(sink).toAbsolutePath();
      String run = ImageRequest.newId().substring(0, 8);
      results
          .sinkTo(new JsonLinesSink(folder, run, lingerMillis, acksTo))
          .name("files in " + folder)
          .uid("conveyor-json-lines-sink");
    }
  }

  /**
   * The producer's properties: the address's, and for transactions a timeout within the broker's
   * default maximum (15 minutes; Flink's own default of an hour is refused by such a broker).
   */
  private static java.util.Properties producerProperties(KafkaConfig address) {
    java.util.Properties p = address.properties();
    if (address.exactlyOnce()) {
      p.putIfAbsent("transaction.timeout.ms", Integer.toString(15 * 60 * 1000));
    }
    return p;
  }

  /** A Kafka record to write. */
  public record Outgoing(String topic, String key, byte[] value) {}
}
