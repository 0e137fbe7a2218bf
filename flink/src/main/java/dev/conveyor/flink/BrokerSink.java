package dev.conveyor.flink;

import dev.conveyor.core.transport.Brokers;
import dev.conveyor.core.transport.ResultBuffer;
import java.io.IOException;
import org.apache.flink.api.common.operators.ProcessingTimeService;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Results to a Conveyor broker's result sink (Redis: result keys, reply lists, the results stream),
 * in the format {@code worker} writes. Each writer stores results in groups of up to {@value
 * #GROUP}: a group is stored once full, {@code sink-linger-ms} after its first result (a
 * processing-time timer, run on the task's thread), before each checkpoint barrier (so a source
 * acknowledges at a checkpoint only what is stored) and at the end of the input. Without
 * checkpoints, the writer acknowledges the source's entries itself once their results are stored
 * ({@link SourceAcks}). A failed store fails the task: its entries are read again, at least once.
 */
final class BrokerSink implements Sink<Classified> {
  private static final int GROUP = 256;
  private final String uri;
  private final long lingerMillis;
  private final String acksTo;

  /**
   * @param acksTo the Redis stream source whose entries this sink acknowledges once stored, or
   *     {@code null}
   */
  BrokerSink(String uri, long lingerMillis, String acksTo) {
    this.uri = uri;
    this.lingerMillis = lingerMillis;
    this.acksTo = acksTo;
  }

  @Override
  public SinkWriter<Classified> createWriter(WriterInitContext context) {
    SourceAcks acks = acksTo == null ? null : new SourceAcks(acksTo);
    ResultBuffer buffer = new ResultBuffer(Brokers.open(uri).sink(), GROUP);
    if (acks != null) {
      buffer.onStored(acks::acknowledge);
    }
    return new Writer(buffer, acks, context.getProcessingTimeService(), lingerMillis);
  }

  private static final class Writer implements SinkWriter<Classified> {
    private final ResultBuffer buffer;
    private final SourceAcks acks;
    private final Linger linger;

    Writer(ResultBuffer buffer, SourceAcks acks, ProcessingTimeService time, long lingerMillis) {
      this.buffer = buffer;
      this.acks = acks;
      this.linger = new Linger(time, lingerMillis, this::store);
    }

    @Override
    public void write(Classified c, Context context) throws IOException {
      try {
        buffer.add(c.id(), c.replyTo(), c.json(), c.entry());
      } catch (Exception e) {
        throw failed(e);
      }
      if (buffer.size() == 0) {
        linger.cancel();
      } else {
        linger.start();
      }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
      store();
    }

    private void store() throws IOException {
      linger.cancel();
      try {
        buffer.flush();
      } catch (Exception e) {
        throw failed(e);
      }
    }

    private IOException failed(Exception e) {
      return e instanceof IOException io
          ? io
          : new IOException("could not store results: " + e.getMessage(), e);
    }

    @Override
    public void close() {
      linger.cancel();
      try {
        buffer.close();
      } finally {
        if (acks != null) {
          acks.close();
        }
      }
    }
  }
}
