package dev.conveyor.flink;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Results as JSON lines in a folder: each parallel writer appends to its own file, {@code
 * results-RUN-SUBTASK.jsonl} (RUN names the job's run, so a new run never writes into an old run's
 * file). Lines are written out and forced to disk {@code sink-linger-ms} after the first one held
 * (a processing-time timer on the task's thread), before each checkpoint barrier and at the end of
 * the input, so each result is readable within the linger, with or without checkpoints. Without
 * checkpoints the writer then acknowledges the source's entries of what it wrote ({@link
 * SourceAcks}). A task restarted from a checkpoint writes again what came after it: at least once.
 */
final class JsonLinesSink implements Sink<Classified> {
  private final String folder;
  private final String run;
  private final long lingerMillis;
  private final String acksTo;

  /**
   * @param run the job run's name in the files' names
   * @param acksTo the Redis stream source whose entries this sink acknowledges once written, or
   *     {@code null}
   */
  JsonLinesSink(Path folder, String run, long lingerMillis, String acksTo) {
    this.folder = folder.toAbsolutePath().toString();
    this.run = run;
    this.lingerMillis = lingerMillis;
    this.acksTo = acksTo;
  }

  @Override
  public SinkWriter<Classified> createWriter(WriterInitContext context) throws IOException {
    Path dir = Files.createDirectories(Path.of(folder));
    Path file =
        dir.resolve(
            "results-%s-%d.jsonl".formatted(run, context.getTaskInfo().getIndexOfThisSubtask()));
    return new Writer(file, acksTo == null ? null : new SourceAcks(acksTo), context, lingerMillis);
  }

  private static final class Writer implements SinkWriter<Classified> {
    private final Path file;
    private final SourceAcks acks;
    private final Linger linger;
    private final StringBuilder held = new StringBuilder();
    private final List<String> entries = new ArrayList<>();
    private FileChannel channel;

    Writer(Path file, SourceAcks acks, WriterInitContext context, long lingerMillis) {
      this.file = file;
      this.acks = acks;
      this.linger = new Linger(context.getProcessingTimeService(), lingerMillis, this::write);
    }

    @Override
    public void write(Classified c, Context context) throws IOException {
      held.append(c.json()).append('\n');
      if (c.entry() != null) {
        entries.add(c.entry());
      }
      if (held.length() >= 1 << 20) {
        write();
      } else {
        linger.start();
      }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
      write();
    }

    /** Appends the lines held, forces them to disk, then acknowledges their entries. */
    private void write() throws IOException {
      linger.cancel();
      if (held.isEmpty()) {
        return;
      }
      if (channel == null) {
        // opened on the first result: a task with nothing to write leaves no empty file
        channel =
            FileChannel.open(
                file,
                StandardOpenOption.CREATE,
                StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
      }
      ByteBuffer bytes = ByteBuffer.wrap(held.toString().getBytes(StandardCharsets.UTF_8));
      while (bytes.hasRemaining()) {
        channel.write(bytes);
      }
      channel.force(false);
      held.setLength(0);
      if (acks != null && !entries.isEmpty()) {
        acks.acknowledge(List.copyOf(entries));
      }
      entries.clear();
    }

    @Override
    public void close() throws IOException {
      linger.cancel();
      try {
        if (channel != null) {
          channel.close();
        }
      } finally {
        if (acks != null) {
          acks.close();
        }
      }
    }
  }
}
