package dev.conveyor.flink.sql;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.typeutils.RowTypeInfo;
import org.apache.flink.core.fs.FileStatus;
import org.apache.flink.core.fs.FileSystem;
import org.apache.flink.core.fs.Path;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.Table;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.apache.flink.types.Row;

/**
 * A folder of image files as rows of {@code path} and {@code content}, one per file, whole: what
 * {@link Classify} takes. Flink's file formats read lines or records; an image is neither. The
 * folder (and those below it) is listed when the job is built, through Flink's file systems, so it
 * may be a local folder or any URI Flink reads ({@code s3://…}, {@code hdfs://…}); each file is
 * read by the tasks. Files whose names start with {@code .} or {@code _} are left out, as Flink's
 * file source leaves them out.
 *
 * <p>Flink's own file source ({@code FileSource}) is not used: in Flink 2.2 its split fetcher can
 * wait out the 30-second close timeout at the end of a bounded read when its queue is full, which a
 * slow consumer such as a model keeps it (FLINK-40660).
 */
public final class ImageFolder {
  /** What each row holds: the file's path, and its bytes. */
  public static final RowTypeInfo ROWS =
      new RowTypeInfo(
          new TypeInformation<?>[] {Types.STRING, Types.PRIMITIVE_ARRAY(Types.BYTE)},
          new String[] {"path", "content"});

  private ImageFolder() {}

  /**
   * The rows of a folder's files, each read once.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when there is no such folder, or no file in
   *     it
   */
  public static DataStream<Row> stream(StreamExecutionEnvironment env, String folder) {
    List<String> files = list(new Path(folder));
    if (files.isEmpty()) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "no files in " + folder);
    }
    return env.fromData(Types.STRING, files.toArray(String[]::new))
        .name("images in " + folder)
        .rebalance()
        .map(new ReadFile())
        .returns(ROWS)
        .name("read files");
  }

  /** The rows of a folder's files as a table of {@code path STRING, content BYTES}. */
  public static Table table(
      StreamTableEnvironment tables, StreamExecutionEnvironment env, String folder) {
    return tables.fromDataStream(stream(env, folder));
  }

  /** The files under {@code dir}, by their paths, in order. */
  static List<String> list(Path dir) {
    try {
      FileSystem fs = dir.getFileSystem();
      if (!fs.exists(dir) || !fs.getFileStatus(dir).isDir()) {
        throw new ConveyorException(ErrorCode.INVALID_SETTING, "no folder at " + dir);
      }
      List<String> files = new ArrayList<>();
      walk(fs, dir, files);
      files.sort(null);
      return files;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void walk(FileSystem fs, Path dir, List<String> files) throws IOException {
    for (FileStatus f : fs.listStatus(dir)) {
      String name = f.getPath().getName();
      if (name.startsWith(".") || name.startsWith("_")) {
        continue;
      }
      if (f.isDir()) {
        walk(fs, f.getPath(), files);
      } else {
        files.add(f.getPath().toString());
      }
    }
  }

  /** A file's path to its row: the path, and the file's bytes. */
  private static final class ReadFile implements MapFunction<String, Row> {
    private static final long serialVersionUID = 1L;

    @Override
    public Row map(String file) throws IOException {
      Path path = new Path(file);
      try (InputStream in = path.getFileSystem().open(path)) {
        return Row.of(file, in.readAllBytes());
      }
    }
  }
}
