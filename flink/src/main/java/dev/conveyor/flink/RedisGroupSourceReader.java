package dev.conveyor.flink;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.redis.RedisConfig;
import dev.conveyor.redis.StreamEntry;
import dev.conveyor.redis.StreamGroupReader;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
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
 * when a read comes back. The group is read through {@link StreamGroupReader}.
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
final class RedisGroupSourceReader implements SourceReader<Incoming, RedisGroupSource.NoSplit> {
  private static final Logger LOG = LoggerFactory.getLogger(RedisGroupSourceReader.class);
  private static final int COUNT = 128;

  private enum Phase {
    OWN_PENDING,
    CLAIM,
    NEW
  }

  private final RedisConfig address;
  private final boolean ackOnCheckpoint;
  private final boolean untilEnd;
  private final String name;
  private final int parallelism;
  private StreamGroupReader group;

  // filled on the Redis client's threads, taken on the task's: guarded by this
  private final ArrayDeque<StreamEntry> ready = new ArrayDeque<>();
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

  RedisGroupSourceReader(
      String uri, int subtask, int parallelism, boolean ackOnCheckpoint, boolean untilEnd) {
    this.address = RedisConfig.parse(uri);
    this.ackOnCheckpoint = ackOnCheckpoint;
    this.untilEnd = untilEnd;
    this.name = name(subtask);
    this.parallelism = parallelism;
  }

  /** The consumer that reader {@code subtask} of a job is in the group. */
  static String name(int subtask) {
    return "flink-" + subtask;
  }

  /** Whether a consumer is one of this job's readers, which read their own pending entries. */
  private boolean ours(String consumer) {
    for (int i = 0; i < parallelism; i++) {
      if (consumer.equals(name(i))) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void start() {
    group = new StreamGroupReader(address, name, true);
    LOG.info("reading {} as {} of group {}", address.describe(), name, address.group());
  }

  @Override
  public InputStatus pollNext(ReaderOutput<Incoming> output) throws Exception {
    StreamEntry m;
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
    if (m.deleted()) {
      // deleted from the stream (trimmed) while pending: nothing to classify, nobody to answer
      ack(List.of(m.id()));
      return InputStatus.MORE_AVAILABLE;
    }
    ImageRequest request = m.request();
    if (ackOnCheckpoint) {
      output.collect(Incoming.of(request));
      sinceSnapshot.add(m.id());
    } else {
      // never acknowledged here: the sink does, once it has stored the result
      output.collect(new Incoming(request, m.id()));
    }
    return InputStatus.MORE_AVAILABLE;
  }

  /**
   * Starts the next read for the phase this reader is in; called holding the lock. A claim takes,
   * of the group's entries pending for longer than {@code claim-idle} after the cursor ({@code
   * 0-0}: from the start), those of consumers other than this job's readers (a reader of a job
   * since rescaled, a worker gone), a page at a time; the cursor moves to the page's last entry, or
   * to {@code 0-0} after the last page.
   */
  private void read() {
    CompletableFuture<List<StreamEntry>> next =
        switch (phase) {
          case OWN_PENDING -> group.readPendingAsync(cursor, COUNT);
          case CLAIM ->
              group
                  .claimIdleAsync(cursor, COUNT, consumer -> !ours(consumer))
                  .thenApply(
                      page -> {
                        synchronized (this) {
                          cursor = page.next();
                        }
                        return page.entries();
                      });
          case NEW -> group.readNewAsync(COUNT, Duration.ofMillis(untilEnd ? 200 : 1000));
        };
    next.whenComplete(this::readDone);
  }

  private synchronized void readDone(List<StreamEntry> messages, Throwable e) {
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
            cursor = messages.get(messages.size() - 1).id();
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
  public List<RedisGroupSource.NoSplit> snapshotState(long checkpointId) {
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
        group
            .ackAsync(ids)
            .whenComplete(
                (n, e) -> {
                  if (e != null) {
                    LOG.warn(
                        "could not acknowledge {} entries (they will be read again)",
                        ids.size(),
                        e);
                  }
                });
  }

  @Override
  public void addSplits(List<RedisGroupSource.NoSplit> splits) {}

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
    if (group != null) {
      group.close();
    }
  }
}
