package dev.conveyor.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.Json;
import dev.conveyor.redis.RedisConfig;
import dev.conveyor.redis.StreamEntry;
import dev.conveyor.redis.StreamGroupReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.streaming.MicroBatchStream;
import org.apache.spark.sql.connector.read.streaming.Offset;
import org.apache.spark.sql.connector.read.streaming.ReadLimit;
import org.apache.spark.sql.connector.read.streaming.SupportsTriggerAvailableNow;

/**
 * The driver's side of {@link RedisMicroBatchSource}: one consumer of the group ({@code spark}),
 * reading a batch's worth of entries at a time. A batch's offset is the ids of its entries; they
 * are acknowledged once the batch has run.
 */
final class RedisMicroBatchStream implements MicroBatchStream, SupportsTriggerAvailableNow {
  private final String uri;
  private final StreamGroupReader group;
  private final int most;
  private boolean ownPendingRead;
  private String cursor = "0-0";
  private boolean availableNow;

  RedisMicroBatchStream(String uri, int most) {
    this.uri = uri;
    this.most = most;
    this.group = new StreamGroupReader(RedisConfig.parse(uri), "spark", true);
  }

  /** A batch's entries: their ids in the stream, in order. */
  static final class IdsOffset extends Offset {
    final long batch;
    final List<String> ids;

    IdsOffset(long batch, List<String> ids) {
      this.batch = batch;
      this.ids = List.copyOf(ids);
    }

    @Override
    public String json() {
      ObjectNode o = Json.mapper().createObjectNode();
      o.put("batch", batch);
      ArrayNode a = o.putArray("ids");
      ids.forEach(a::add);
      return Json.write(o);
    }

    static IdsOffset parse(String json) {
      JsonNode o = Json.read(json, JsonNode.class);
      List<String> ids = new ArrayList<>();
      o.get("ids").forEach(id -> ids.add(id.asText()));
      return new IdsOffset(o.get("batch").asLong(), ids);
    }
  }

  @Override
  public Offset initialOffset() {
    return new IdsOffset(0, List.of());
  }

  @Override
  public Offset latestOffset() {
    throw new UnsupportedOperationException("latestOffset(start, limit) is used");
  }

  @Override
  public Offset latestOffset(Offset start, ReadLimit limit) {
    IdsOffset from = (IdsOffset) start;
    // the batch that ends at start has run and its results are in the sink (Spark runs batches
    // in turn, and again after a restart before it asks for more); Spark tells the source with
    // commit() only once a next batch is planned, so this is where its entries are done
    commit(from);
    List<StreamEntry> read = List.of();
    if (!ownPendingRead) {
      // entries this query read before and never acknowledged (it stopped or failed)
      read = group.readPending(cursor, most);
      if (read.isEmpty()) {
        ownPendingRead = true;
      } else {
        cursor = read.get(read.size() - 1).id();
      }
    }
    if (ownPendingRead) {
      read = group.readNew(most, availableNow ? null : Duration.ofMillis(100));
    }
    if (read.isEmpty()) {
      return from;
    }
    return new IdsOffset(from.batch + 1, read.stream().map(StreamEntry::id).toList());
  }

  @Override
  public void prepareForTriggerAvailableNow() {
    // read until the group has nothing more, then end
    availableNow = true;
  }

  @Override
  public InputPartition[] planInputPartitions(Offset start, Offset end) {
    List<String> ids = ((IdsOffset) end).ids;
    int parts = Math.max(1, Math.min(ids.size(), Runtime.getRuntime().availableProcessors()));
    InputPartition[] out = new InputPartition[parts];
    int per = (ids.size() + parts - 1) / parts;
    for (int i = 0; i < parts; i++) {
      out[i] =
          new RedisEntryReader.Entries(
              uri, ids.subList(i * per, Math.min(ids.size(), (i + 1) * per)));
    }
    return out;
  }

  @Override
  public PartitionReaderFactory createReaderFactory() {
    return partition -> new RedisEntryReader((RedisEntryReader.Entries) partition);
  }

  @Override
  public Offset deserializeOffset(String json) {
    return IdsOffset.parse(json);
  }

  /** The batch's results are in the sink: its entries are done. */
  @Override
  public void commit(Offset end) {
    group.ack(((IdsOffset) end).ids);
  }

  @Override
  public void stop() {
    group.close();
  }
}
