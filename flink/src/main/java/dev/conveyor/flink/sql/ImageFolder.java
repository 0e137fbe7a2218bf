package dev.conveyor.flink.sql;

import java.io.IOException;
import java.io.InputStream;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.connector.file.src.FileSource;
import org.apache.flink.connector.file.src.FileSourceSplit;
import org.apache.flink.connector.file.src.reader.BulkFormat;
import org.apache.flink.connector.file.src.util.CheckpointedPosition;
import org.apache.flink.connector.file.src.util.SingletonResultIterator;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;

/**
 * A folder of image files as rows of {@code path} and {@code content}, one per file, whole: what
 * {@link Classify} takes. Flink's file formats read lines or records; an image is neither. Files
 * whose names start with {@code .} or {@code _} are left out, as Flink's file source does.
 */
public final class ImageFolder implements BulkFormat<Row, FileSourceSplit> {
  private static final long serialVersionUID = 1L;

  /** The rows of a folder's files, each read once. */
  public static DataStream<Row> stream(StreamExecutionEnvironment env, String folder) {
    FileSource<Row> files =
        FileSource.forBulkFileFormat(new ImageFolder(), new Path(folder)).build();
    return env.fromSource(files, WatermarkStrategy.noWatermarks(), "images in " + folder);
  }

  /** The rows of a folder's files as a table of {@code path STRING, content BYTES}. */
  public static Table table(
      StreamTableEnvironment tables, StreamExecutionEnvironment env, String folder) {
    return tables.fromDataStream(stream(env, folder));
  }

  @Override
  public Reader<Row> createReader(Configuration config, FileSourceSplit split) {
    return new WholeFile(split, false);
  }

  @Override
  public Reader<Row> restoreReader(Configuration config, FileSourceSplit split) {
    boolean read = split.getReaderPosition().map(p -> p.getRecordsAfterOffset() > 0).orElse(false);
    return new WholeFile(split, read);
  }

  /** A file is one record: never split. */
  @Override
  public boolean isSplittable() {
    return false;
  }

  @Override
  public TypeInformation<Row> getProducedType() {
    return new RowTypeInfo(
        new TypeInformation<?>[] {Types.STRING, Types.PRIMITIVE_ARRAY(Types.BYTE)},
        new String[] {"path", "content"});
  }

  private static final class WholeFile implements BulkFormat.Reader<Row> {
    private final FileSourceSplit split;
    private boolean read;

    WholeFile(FileSourceSplit split, boolean read) {
      this.split = split;
      this.read = read;
    }

    @Override
    public RecordIterator<Row> readBatch() throws IOException {
      if (read) {
        return null;
      }
      read = true;
      byte[] bytes;
      try (InputStream in = split.path().getFileSystem().open(split.path())) {
        bytes = in.readAllBytes();
      }
      SingletonResultIterator<Row> file = new SingletonResultIterator<>();
      file.set(Row.of(split.path().toString(), bytes), CheckpointedPosition.NO_OFFSET, 1L);
      return file;
    }

    @Override
    public void close() {}
  }
}
