package dev.conveyor.spark;

import dev.conveyor.redis.RedisConfig;
import dev.conveyor.redis.StreamAcks;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.streaming.MicroBatchStream;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * A Redis stream read by a consumer group as a Structured Streaming source of micro-batches ({@code
 * format(RedisMicroBatchSource.class.getName()).option("uri", …)}): spark-redis has no release for
 * Spark 4, so this is Conveyor's own, on Spark's DataSource V2 API and the {@code redis} module's
 * {@link dev.conveyor.redis.StreamGroupReader}.
 *
 * <p>The driver is the group's one consumer ({@code spark}): for each micro-batch it reads up to
 * {@code max-per-batch} new entries ({@code XREADGROUP}), and the batch's offset records their ids,
 * so a restarted query plans the same batch again from its offset log. Executors fetch the entries
 * by id ({@code XRANGE}, {@link RedisEntryReader}). An entry is acknowledged ({@code XACK}) only
 * once its batch has run and the sink has the batch's results: when the next batch is planned, and
 * for the last batch when the query stops ({@link #acknowledge}, from the query's last progress).
 * On start the driver first reads again what it read before and never acknowledged: at least once,
 * duplicates possible after a failure.
 */
public final class RedisMicroBatchSource implements TableProvider {

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
    List<String> ids = RedisMicroBatchStream.IdsOffset.parse(endOffset).ids;
    if (ids.isEmpty()) {
      return 0;
    }
    try (StreamAcks acks = new StreamAcks(RedisConfig.parse(uri))) {
      return acks.ack(ids);
    }
  }

  /** The stream as a table that can only be read as a stream. */
  private record StreamTable(String uri, int most) implements Table, SupportsRead {
    @Override
    public String name() {
      return RedisConfig.parse(uri).describe();
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
              return new RedisMicroBatchStream(uri, most);
            }
          };
    }
  }
}
