package dev.conveyor.flink;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.engine.JobPlan;
import dev.conveyor.kafka.KafkaConfig;
import dev.conveyor.kafka.Records;
import dev.conveyor.kafka.RequestFormat;
import dev.conveyor.kafka.Topics;
import dev.conveyor.redis.RedisConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.KafkaSourceBuilder;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetResetStrategy;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the job's requests come from, from the {@code source} setting:
 *
 * <ul>
 *   <li>a folder: its files, walked as {@code classify} walks it, read once (bounded);
 *   <li>{@code kafka://…}: Flink's {@code KafkaSource} on the requests topic, in Conveyor's record
 *       format, from the group's committed offsets (the earliest for a new group); offsets are
 *       committed when a checkpoint completes, never automatically;
 *   <li>{@code redis://…?mode=stream}: the stream through its consumer group ({@link
 *       RedisGroupSource}), entries acknowledged when a checkpoint completes, or without
 *       checkpoints by the sink once their results are stored.
 * </ul>
 */
final class JobSources {
  private static final Logger LOG = LoggerFactory.getLogger(JobSources.class);

  private JobSources() {}

  /** What a source setting names, checked on the client. */
  sealed interface Source permits Folder, Kafka, RedisStream {}

  record Folder(Path folder, List<String> files) implements Source {}

  record Kafka(String uri, KafkaConfig address) implements Source {}

  record RedisStream(String uri) implements Source {}

  /**
   * Reads a source setting.
   *
   * @throws ConveyorException {@code INVALID_SETTING} naming what is wrong
   */
  static Source parse(String source) {
    if (KafkaConfig.handles(source)) {
      return new Kafka(source, KafkaConfig.parse(source));
    }
    if (RedisConfig.handles(source)) {
      RedisConfig a = RedisConfig.parse(source);
      if (a.mode() != RedisConfig.Mode.STREAM) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "the Flink job reads a Redis stream through a consumer group: add mode=stream to "
                + a.describe()
                + " (a list or a channel has no offsets a checkpoint could keep)");
      }
      return new RedisStream(source);
    }
    if (!JobPlan.isFolder(source)) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "no Flink source for '"
              + source
              + "'; use a folder, kafka://host:port?topic=… or redis://host:port?mode=stream");
    }
    Path folder = JobPlan.folder(source);
    if (!Files.isDirectory(folder)) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "no folder at " + folder);
    }
    List<String> files = ImageFiles.expand(List.of(folder)).stream().map(Path::toString).toList();
    if (files.isEmpty()) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "no files under " + folder);
    }
    return new Folder(folder, files);
  }

  /**
   * The source's requests on {@code env}.
   *
   * @param ackOnCheckpoint with checkpoints on: a broker source commits (offsets) or acknowledges
   *     (entries) what it read when a checkpoint completes. Otherwise a Redis stream's requests
   *     carry their entry ids for the sink to acknowledge once their results are stored (a Kafka
   *     source needs checkpoints: {@link FlinkJob} refuses it without)
   */
  static DataStream<Incoming> requests(
      StreamExecutionEnvironment env, Source source, boolean ackOnCheckpoint, boolean untilEnd) {
    TypeInformation<Incoming> type = TypeInformation.of(Incoming.class);
    if (source instanceof Folder f) {
      return env.fromData(Types.STRING, f.files().toArray(String[]::new))
          .name("images in " + f.folder())
          .map(file -> Incoming.of(ImageRequest.ofKey(file)))
          .returns(type)
          .name("requests")
          .uid("conveyor-folder-requests");
    }
    if (source instanceof Kafka k) {
      // the topic made first, as a worker makes it: Flink's source fails, and restarts the job
      // over and over, on a topic that does not exist yet
      Topics.ensure(k.address()).ifPresent(LOG::warn);
      // offsets are committed when a checkpoint completes, never by the consumer on its own: an
      // automatic commit would cover records whose results are not stored yet
      KafkaSourceBuilder<ImageRequest> b =
          KafkaSource.<ImageRequest>builder()
              .setBootstrapServers(k.address().bootstrap())
              .setProperties(k.address().properties())
              .setTopics(k.address().topic())
              .setGroupId(k.address().group())
              .setStartingOffsets(OffsetsInitializer.committedOffsets(OffsetResetStrategy.EARLIEST))
              .setDeserializer(new KafkaRequests(k.address().format()))
              .setProperty("commit.offsets.on.checkpoint", "true")
              .setProperty("enable.auto.commit", "false");
      if (untilEnd) {
        b.setBounded(OffsetsInitializer.latest());
      }
      return env.fromSource(b.build(), WatermarkStrategy.noWatermarks(), k.address().describe())
          .uid("conveyor-kafka-source")
          .map(Incoming::of)
          .returns(type)
          .name("requests")
          .uid("conveyor-kafka-requests");
    }
    RedisStream r = (RedisStream) source;
    return env.fromSource(
            new RedisGroupSource(r.uri(), ackOnCheckpoint, untilEnd),
            WatermarkStrategy.noWatermarks(),
            RedisConfig.parse(r.uri()).describe())
        .uid("conveyor-redis-source");
  }

  /**
   * The requests topic's records, read as the workers read them ({@link Records}): Conveyor's
   * format, or bare object keys with {@code requests=keys}. A record that is not a request becomes
   * one answered with a {@code BAD_REQUEST} result.
   */
  private static final class KafkaRequests
      implements KafkaRecordDeserializationSchema<ImageRequest> {
    private final RequestFormat format;

    KafkaRequests(RequestFormat format) {
      this.format = format;
    }

    @Override
    public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<ImageRequest> out) {
      out.collect(Records.fromBytesRecord(record, format));
    }

    @Override
    public TypeInformation<ImageRequest> getProducedType() {
      return TypeInformation.of(ImageRequest.class);
    }
  }
}
