package dev.conveyor.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.redis.RedisAddress;
import dev.conveyor.redis.RequestCodec;
import dev.conveyor.redis.Streams;
import io.lettuce.core.Consumer;
import io.lettuce.core.LettuceFutures;
import io.lettuce.core.Limit;
import io.lettuce.core.Range;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.StreamMessage;
import io.lettuce.core.XReadArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.codec.ByteArrayCodec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.streaming.MicroBatchStream;
import org.apache.spark.sql.connector.read.streaming.Offset;
import org.apache.spark.sql.connector.read.streaming.ReadLimit;
import org.apache.spark.sql.connector.read.streaming.SupportsTriggerAvailableNow;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * A Redis stream read by a consumer group as a Structured Streaming source ({@code
 * format(RedisStreamSource.class.getName()).option("uri", …)}): spark-redis has no release for
 * Spark 4, so this is Conveyor's own, on Spark's DataSource V2 API and Lettuce.
 *
 * <p>The driver is the group's one consumer ({@code spark}): for each micro-batch it reads up to
 * {@code max-per-batch} new entries ({@code XREADGROUP}), and the batch's offset records their ids,
 * so a restarted query plans the same batch again from its offset log. Executors fetch the entries
 * by id ({@code XRANGE}). An entry is acknowledged ({@code XACK}) only once its batch has run and
 * the sink has the batch's results: when the next batch is planned, and for the last batch when the
 * query stops ({@link #acknowledge}, from the query's last progress). On start the driver first
 * reads again what it read before and never acknowledged: at least once, duplicates possible after
 * a failure.
 */
public final class RedisStreamSource implements TableProvider {

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return ClassifyPartition.REQUESTS;
  }

  @Override
  public boolean supportsExternalMetadata() {
    return true;
  }

  @Override
  public Table getTable(
      StructType schema, Transform[] partitioning, Map<String, String> properties) {
    return new StreamTable(
        properties.get("uri"), Integer.parseInt(properties.getOrDefault("max-per-batch", "1024")));
  }

  /**
   * Acknowledges the entries of a batch that has run: the query's last progress names the end
   * offset of its last completed batch, whose results the sink has, and which no next batch
   * acknowledged because the query stopped.
   *
   * @param uri the source's URI
   * @param endOffset the offset's JSON, as the query's progress gives it; {@code null} for none
   * @return how many entries were acknowledged (that were still pending)
   */
  static long acknowledge(String uri, String endOffset) {
    if (endOffset == null || endOffset.isBlank()) {
      return 0;
    }
    List<String> ids = IdsOffset.parse(endOffset).ids;
    if (ids.isEmpty()) {
      return 0;
    }
    RedisAddress address = RedisAddress.parse(uri);
    RedisClient client = address.client();
    try (StatefulRedisConnection<byte[], byte[]> redis = client.connect(ByteArrayCodec.INSTANCE)) {
      return redis
          .sync()
          .xack(
              RequestCodec.bytes(address.images()),
              RequestCodec.bytes(address.group()),
              ids.toArray(String[]::new));
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  /** The stream as a table that can only be read as a stream. */
  private record StreamTable(String uri, int most) implements Table, SupportsRead {
    @Override
    public String name() {
      return RedisAddress.parse(uri).describe();
    }

    @Override
    public StructType schema() {
      return ClassifyPartition.REQUESTS;
    }

    @Override
    public Set<TableCapability> capabilities() {
      return EnumSet.of(TableCapability.MICRO_BATCH_READ);
    }

    @Override
    public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
      return () ->
          new Scan() {
            @Override
            public StructType readSchema() {
              return ClassifyPartition.REQUESTS;
            }

            @Override
            public MicroBatchStream toMicroBatchStream(String checkpointLocation) {
              return new Batches(uri, most);
            }
          };
    }
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

  /** The driver's side: one consumer of the group, reading a batch's worth at a time. */
  private static final class Batches implements MicroBatchStream, SupportsTriggerAvailableNow {
    private final String uri;
    private final RedisAddress address;
    private final byte[] stream;
    private final Consumer<byte[]> consumer;
    private final RedisClient client;
    private final StatefulRedisConnection<byte[], byte[]> redis;
    private boolean ownPendingRead;
    private String cursor = "0-0";
    private boolean availableNow;
    private final int most;

    Batches(String uri, int most) {
      this.uri = uri;
      this.most = most;
      this.address = RedisAddress.parse(uri);
      this.stream = RequestCodec.bytes(address.images());
      this.consumer =
          Consumer.from(RequestCodec.bytes(address.group()), RequestCodec.bytes("spark"));
      this.client = address.client();
      this.redis = client.connect(ByteArrayCodec.INSTANCE);
      Streams.ensureGroup(redis.sync(), address);
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
      List<StreamMessage<byte[], byte[]>> read = List.of();
      if (!ownPendingRead) {
        // entries this query read before and never acknowledged (it stopped or failed)
        read =
            redis
                .sync()
                .xreadgroup(
                    consumer,
                    XReadArgs.Builder.count(most),
                    XReadArgs.StreamOffset.from(stream, cursor));
        if (read.isEmpty()) {
          ownPendingRead = true;
        } else {
          cursor = read.get(read.size() - 1).getId();
        }
      }
      if (ownPendingRead) {
        XReadArgs args = XReadArgs.Builder.count(most);
        if (!availableNow) {
          args = args.block(Duration.ofMillis(100));
        }
        read = redis.sync().xreadgroup(consumer, args, XReadArgs.StreamOffset.lastConsumed(stream));
      }
      if (read.isEmpty()) {
        return from;
      }
      return new IdsOffset(from.batch + 1, read.stream().map(StreamMessage::getId).toList());
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
        out[i] = new Entries(uri, ids.subList(i * per, Math.min(ids.size(), (i + 1) * per)));
      }
      return out;
    }

    @Override
    public PartitionReaderFactory createReaderFactory() {
      return partition -> new EntryReader((Entries) partition);
    }

    @Override
    public Offset deserializeOffset(String json) {
      return IdsOffset.parse(json);
    }

    /** The batch's results are in the sink: its entries are done. */
    @Override
    public void commit(Offset end) {
      List<String> ids = ((IdsOffset) end).ids;
      if (!ids.isEmpty()) {
        redis.sync().xack(stream, consumer.getGroup(), ids.toArray(String[]::new));
      }
    }

    @Override
    public void stop() {
      redis.close();
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  /** Some of a batch's entries, by id, for one task. */
  record Entries(String uri, List<String> ids) implements InputPartition {
    Entries {
      ids = new ArrayList<>(ids);
    }
  }

  /** An executor's side: fetches its entries by id and hands them on as requests. */
  private static final class EntryReader implements PartitionReader<InternalRow> {
    private final List<InternalRow> rows = new ArrayList<>();
    private int next = -1;

    EntryReader(Entries part) {
      RedisAddress address = RedisAddress.parse(part.uri());
      byte[] stream = RequestCodec.bytes(address.images());
      RedisClient client = address.client();
      try (StatefulRedisConnection<byte[], byte[]> redis =
          client.connect(ByteArrayCodec.INSTANCE)) {
        List<RedisFuture<List<StreamMessage<byte[], byte[]>>>> fetched = new ArrayList<>();
        for (String id : part.ids()) {
          fetched.add(redis.async().xrange(stream, Range.create(id, id), Limit.from(1)));
        }
        LettuceFutures.awaitAll(60, TimeUnit.SECONDS, fetched.toArray(RedisFuture[]::new));
        for (RedisFuture<List<StreamMessage<byte[], byte[]>>> f : fetched) {
          for (StreamMessage<byte[], byte[]> m : f.get()) {
            rows.add(row(address, m));
          }
        }
      } catch (Exception e) {
        throw new IllegalStateException("could not read entries of " + address.describe(), e);
      } finally {
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
      }
    }

    private static InternalRow row(RedisAddress address, StreamMessage<byte[], byte[]> m) {
      ImageRequest r = RequestCodec.fromEntry(address.images(), m.getId(), m.getBody());
      return new GenericInternalRow(
          new Object[] {
            text(r.id()), text(r.source()), r.bytes(), text(r.contentType()), text(r.replyTo())
          });
    }

    private static UTF8String text(String s) {
      return s == null ? null : UTF8String.fromString(s);
    }

    @Override
    public boolean next() {
      return ++next < rows.size();
    }

    @Override
    public InternalRow get() {
      return rows.get(next);
    }

    @Override
    public void close() {}
  }
}
