package dev.conveyor.flink;

import java.util.List;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.connector.source.Boundedness;
import org.apache.flink.api.connector.source.Source;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.api.connector.source.SourceReaderContext;
import org.apache.flink.api.connector.source.SourceSplit;
import org.apache.flink.api.connector.source.SplitEnumerator;
import org.apache.flink.api.connector.source.SplitEnumeratorContext;
import org.apache.flink.api.java.typeutils.ResultTypeQueryable;
import org.apache.flink.core.io.SimpleVersionedSerializer;

/**
 * Requests from a Redis stream, read by a consumer group: what Cluster Serving did on Flink, on
 * Flink's Source API and the {@code redis} module's {@link dev.conveyor.redis.StreamGroupReader}.
 * Each parallel reader is one consumer of the group, named after its subtask ({@code flink-0},
 * {@code flink-1}, …), so a restarted job finds what it had read and not acknowledged in its
 * consumers' pending entries and reads that again first. With checkpoints, entries are acknowledged
 * only once a checkpoint taken after they were read completes: by then their results are in the
 * sink. Without, each request carries its entry id ({@link Incoming#entry}) and the sink
 * acknowledges it once it has stored the result. The stream is shared out by Redis, not by Flink,
 * so there are no splits to assign.
 *
 * @see RedisGroupSourceReader
 */
public final class RedisGroupSource
    implements Source<Incoming, RedisGroupSource.NoSplit, Integer>, ResultTypeQueryable<Incoming> {

  private final String uri;
  private final boolean ackOnCheckpoint;
  private final boolean untilEnd;

  /**
   * @param uri a {@code redis://…?mode=stream} URI: stream, group, claim-idle
   * @param ackOnCheckpoint acknowledge entries when a checkpoint completes (with checkpoints on);
   *     otherwise leave them to the sink, which acknowledges each once its result is stored
   * @param untilEnd finish once the stream has nothing more for this reader
   */
  public RedisGroupSource(String uri, boolean ackOnCheckpoint, boolean untilEnd) {
    this.uri = uri;
    this.ackOnCheckpoint = ackOnCheckpoint;
    this.untilEnd = untilEnd;
  }

  /** Never made: readers share a stream through its consumer group. */
  public record NoSplit(String splitId) implements SourceSplit {}

  @Override
  public Boundedness getBoundedness() {
    return untilEnd ? Boundedness.BOUNDED : Boundedness.CONTINUOUS_UNBOUNDED;
  }

  @Override
  public SourceReader<Incoming, NoSplit> createReader(SourceReaderContext context) {
    return new RedisGroupSourceReader(
        uri, context.getIndexOfSubtask(), context.currentParallelism(), ackOnCheckpoint, untilEnd);
  }

  @Override
  public SplitEnumerator<NoSplit, Integer> createEnumerator(
      SplitEnumeratorContext<NoSplit> context) {
    return new Enumerator();
  }

  @Override
  public SplitEnumerator<NoSplit, Integer> restoreEnumerator(
      SplitEnumeratorContext<NoSplit> context, Integer checkpoint) {
    return new Enumerator();
  }

  @Override
  public SimpleVersionedSerializer<NoSplit> getSplitSerializer() {
    return new Nothing<>();
  }

  @Override
  public SimpleVersionedSerializer<Integer> getEnumeratorCheckpointSerializer() {
    return new Nothing<>();
  }

  @Override
  public TypeInformation<Incoming> getProducedType() {
    return TypeInformation.of(Incoming.class);
  }

  /** Has nothing to hand out. */
  private static final class Enumerator implements SplitEnumerator<NoSplit, Integer> {
    @Override
    public void start() {}

    @Override
    public void handleSplitRequest(int subtask, String host) {}

    @Override
    public void addSplitsBack(List<NoSplit> splits, int subtask) {}

    @Override
    public void addReader(int subtask) {}

    @Override
    public Integer snapshotState(long checkpointId) {
      return 0;
    }

    @Override
    public void close() {}
  }

  /** Writes nothing and reads nothing back. */
  private static final class Nothing<T> implements SimpleVersionedSerializer<T> {
    @Override
    public int getVersion() {
      return 1;
    }

    @Override
    public byte[] serialize(T value) {
      return new byte[0];
    }

    @Override
    public T deserialize(int version, byte[] serialized) {
      return null;
    }
  }
}
