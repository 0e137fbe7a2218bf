package dev.conveyor.spark;

import dev.conveyor.core.ImageRequest;
import dev.conveyor.redis.RedisConfig;
import dev.conveyor.redis.StreamEntry;
import dev.conveyor.redis.StreamGroupReader;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * An executor's side of {@link RedisMicroBatchSource}: fetches its entries by id and hands them on
 * as requests; an entry that is not a request as one answered with a {@code BAD_REQUEST} result.
 */
final class RedisEntryReader implements PartitionReader<InternalRow> {
  private final List<InternalRow> rows = new ArrayList<>();
  private int next = -1;

  /** Some of a batch's entries, by id, for one task. */
  record Entries(String uri, List<String> ids) implements InputPartition {
    Entries {
      ids = new ArrayList<>(ids);
    }
  }

  RedisEntryReader(Entries part) {
    for (StreamEntry e : StreamGroupReader.fetch(RedisConfig.parse(part.uri()), part.ids())) {
      rows.add(row(e.request()));
    }
  }

  private static InternalRow row(ImageRequest r) {
    return new GenericInternalRow(
        new Object[] {
          text(r.id()),
          text(r.source()),
          r.bytes(),
          text(r.contentType()),
          text(r.replyTo()),
          text(r.model())
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
