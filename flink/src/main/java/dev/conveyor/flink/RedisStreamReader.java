package dev.conveyor.flink;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.redis.RedisAddress;
import dev.conveyor.redis.RequestCodec;
import dev.conveyor.redis.Streams;
import io.lettuce.core.Consumer;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XClaimArgs;
import io.lettuce.core.XPendingArgs;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.models.stream.PendingMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.flink.api.connector.source.ReaderOutput;
import org.apache.flink.api.connector.source.SourceReader;
import org.apache.flink.core.io.InputStatus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One consumer of a Redis stream's group, on Flink's task thread. It reads, in turn: the entries it
 * was given before and never acknowledged (its own pending entries: a restart finds them here),
 * then entries other consumers left pending for longer than {@code claim-idle} (a consumer gone
 * since the job was rescaled), then new entries, claiming again every half {@code claim-idle}.
 * Reads are asynchronous, so the task thread never blocks on Redis: {@link #isAvailable} completes
 * when a read comes back.
 *
 * <p>A claim never takes the entries of this job's own readers ({@code flink-0} up to the job's
 * parallelism, this one included): they stay pending until a checkpoint completes or the sink
 * stores their results, however long that takes (a checkpoint interval longer than {@code
 * claim-idle}, a long sink linger), and claiming them would classify them twice. A reader that
 * fails is restarted under the same name and reads its own pending entries first.
 *
 * <p>With checkpoints, each entry read is remembered until a checkpoint taken after it completes;
 * then it is acknowledged ({@code XACK}). Without, the request carries its entry id and the sink
 * acknowledges it once it has stored the result: an entry is never acknowledged before then. An
 * entry that is not a request gives a {@code BAD_REQUEST} result, acknowledged like the rest.
 */
final class RedisStreamReader implements SourceReader<Incoming, RedisStreamSource.NoSplit> {
  private static final Logger LOG = LoggerFactory.getLogger(RedisStreamReader.class);
  private static final int COUNT = 128;

  private enum Phase {
    OWN_PENDING,
    CLAIM,
    NEW
  }

  private final RedisAddress address;
  private final boolean ackOnCheckpoint;
  private final boolean untilEnd;
  private final byte[] stream;
  private final Consumer<byte[]> consumer;
  private final int parallelism;
  private RedisClient client;
  private StatefulRedisConnection<byte[], byte[]> reads;
  private StatefulRedisConnection<byte[], byte[]> acks;

  // filled on Lettuce's threads, taken on the task's: guarded by this
  private final ArrayDeque<StreamMessage<byte[], byte[]>> ready = new ArrayDeque<>();
  private CompletableFuture<Void> available = CompletableFuture.completedFuture(null);
  private boolean reading;
  private boolean ended;
  private Throwable failure;
  private Phase phase = Phase.OWN_PENDING;
  private String cursor = "0-0";
  private long lastClaim;

  // the task thread's own
  private List<String> sinceSnapshot = new ArrayList<>();
  private CompletableFuture<Long> lastAck = CompletableFuture.completedFuture(0L);
  private final NavigableMap<Long, List<String>> awaiting = new TreeMap<>();

  RedisStreamReader(
      String uri, int subtask, int parallelism, boolean ackOnCheckpoint, boolean untilEnd) {
    this.address = RedisAddress.parse(uri);
    this.ackOnCheckpoint = ackOnCheckpoint;
    this.untilEnd = untilEnd;
    this.stream = RequestCodec.bytes(address.images());
    this.consumer =
        Consumer.from(RequestCodec.bytes(address.group()), RequestCodec.bytes(name(subtask)));
    this.parallelism = parallelism;
  }

  /** The consumer that reader {@code subtask} of a job is in the group. */
  static String name(int subtask) {
    return "flink-" + subtask;
  }

  /** Whether a consumer is one of this job's readers, which read their own pending entries. */
  private boolean ours(String name) {
    for (int i = 0; i < parallelism; i++) {
      if (name.equals(name(i))) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void start() {
    client = address.client();
    reads = client.connect(ByteArrayCodec.INSTANCE);
    acks = client.connect(ByteArrayCodec.INSTANCE);
    Streams.ensureGroup(acks.sync(), address);
    LOG.info(
        "reading {} as {} of group {}",
        address.describe(),
        new String(consumer.getName(), StandardCharsets.UTF_8),
        address.group());
  }

  @Override
  public InputStatus pollNext(ReaderOutput<Incoming> output) throws Exception {
    StreamMessage<byte[], byte[]> m;
    synchronized (this) {
      if (failure != null) {
        throw new IOException("reading " + address.describe() + " failed", failure);
      }
      m = ready.poll();
      if (m == null) {
        if (ended) {
          return InputStatus.END_OF_INPUT;
        }
        if (!reading) {
          reading = true;
          available = new CompletableFuture<>();
          read();
        }
        return InputStatus.NOTHING_AVAILABLE;
      }
    }
    if (m.getBody() == null || m.getBody().isEmpty()) {
      // deleted from the stream (trimmed) while pending: nothing to classify, nobody to answer
      ack(List.of(m.getId()));
      return InputStatus.MORE_AVAILABLE;
    }
    ImageRequest request = RequestCodec.fromEntry(address.images(), m.getId(), m.getBody());
    if (ackOnCheckpoint) {
      output.collect(Incoming.of(request));
      sinceSnapshot.add(m.getId());
    } else {
      // never acknowledged here: the sink does, once it has stored the result
      output.collect(new Incoming(request, m.getId()));
    }
    return InputStatus.MORE_AVAILABLE;
  }

  /** Starts the next read for the phase this reader is in; called holding the lock. */
  private void read() {
    CompletionStage<List<StreamMessage<byte[], byte[]>>> next =
        switch (phase) {
          case OWN_PENDING ->
              reads
                  .async()
                  .xreadgroup(
                      consumer,
                      XReadArgs.Builder.count(COUNT),
                      XReadArgs.StreamOffset.from(stream, cursor));
          case CLAIM -> claim();
          case NEW ->
              reads
                  .async()
                  .xreadgroup(
                      consumer,
                      XReadArgs.Builder.count(COUNT)
                          .block(Duration.ofMillis(untilEnd ? 200 : 1000)),
                      XReadArgs.StreamOffset.lastConsumed(stream));
        };
    next.whenComplete(this::readDone);
  }

  /**
   * The next page of the group's entries pending for longer than {@code claim-idle}, after the
   * cursor ({@code 0-0}: from the start): claims those of consumers other than this job's readers
   * (a reader of a job since rescaled, a worker gone), with the same minimum idle time, so that of
   * two readers claiming at once only one gets each entry. Moves the cursor to the page's last
   * entry, or to {@code 0-0} after the last page. Called holding the lock.
   */
  private CompletionStage<List<StreamMessage<byte[], byte[]>>> claim() {
    RedisAsyncCommands<byte[], byte[]> redis = reads.async();
    Duration idle = address.claimIdle();
    Range<String> after =
        Range.from(
            cursor.equals("0-0")
                ? Range.Boundary.<String>unbounded()
                : Range.Boundary.including("(" + cursor),
            Range.Boundary.unbounded());
    return redis
        .xpending(
            stream,
            new XPendingArgs<byte[]>()
                .group(consumer.getGroup())
                .idle(idle)
                .range(after)
                .limit(Limit.from(COUNT)))
        .thenApply(
            page -> {
              synchronized (this) {
                cursor = page.size() < COUNT ? "0-0" : page.get(page.size() - 1).getId();
              }
              return page.stream()
                  .filter(p -> !ours(p.getConsumer()))
                  .map(PendingMessage::getId)
                  .toArray(String[]::new);
            })
        .thenCompose(
            ids -> {
              if (ids.length == 0) {
                return CompletableFuture.completedFuture(List.of());
              }
              return redis.xclaim(stream, consumer, XClaimArgs.Builder.minIdleTime(idle), ids);
            });
  }

  private synchronized void readDone(List<StreamMessage<byte[], byte[]>> messages, Throwable e) {
    reading = false;
    if (e != null) {
      failure = e;
    } else {
      boolean none = messages == null || messages.isEmpty();
      if (!none) {
        ready.addAll(messages);
      }
      switch (phase) {
        case OWN_PENDING -> {
          if (none) {
            phase = Phase.CLAIM;
            cursor = "0-0";
          } else {
            cursor = messages.get(messages.size() - 1).getId();
          }
        }
        case CLAIM -> {
          if (cursor.equals("0-0")) {
            phase = Phase.NEW;
            lastClaim = System.nanoTime();
          }
        }
        case NEW -> {
          if (System.nanoTime() - lastClaim > address.claimIdle().toNanos() / 2) {
            // consumers that went away since (a rescaled job, a stopped worker) left entries
            phase = Phase.CLAIM;
            cursor = "0-0";
          } else {
            ended = untilEnd && none;
          }
        }
      }
    }
    available.complete(null);
  }

  @Override
  public synchronized CompletableFuture<Void> isAvailable() {
    return available;
  }

  @Override
  public List<RedisStreamSource.NoSplit> snapshotState(long checkpointId) {
    if (!sinceSnapshot.isEmpty()) {
      awaiting.put(checkpointId, sinceSnapshot);
      sinceSnapshot = new ArrayList<>();
    }
    return List.of();
  }

  /** The results of everything read before this checkpoint are in the sink: acknowledge it. */
  @Override
  public void notifyCheckpointComplete(long checkpointId) {
    NavigableMap<Long, List<String>> done = awaiting.headMap(checkpointId, true);
    List<String> ids = new ArrayList<>();
    done.values().forEach(ids::addAll);
    done.clear();
    if (!ids.isEmpty()) {
      ack(ids);
    }
  }

  /** Acknowledges entries; a failure only means they are read again after a restart. */
  private void ack(List<String> ids) {
    lastAck =
        acks.async()
            .xack(stream, consumer.getGroup(), ids.toArray(String[]::new))
            .whenComplete(
                (n, e) -> {
                  if (e != null) {
                    LOG.warn(
                        "could not acknowledge {} entries (they will be read again)",
                        ids.size(),
                        e);
                  }
                })
            .toCompletableFuture();
  }

  @Override
  public void addSplits(List<RedisStreamSource.NoSplit> splits) {}

  @Override
  public void notifyNoMoreSplits() {}

  @Override
  public void close() {
    try {
      // the acknowledgements of the last checkpoint (a bounded job's final one) go out first
      lastAck.get(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("the last acknowledgements may not have reached Redis (they will be read again)");
    }
    if (client != null) {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }
}
