package dev.conveyor.flink;

import dev.conveyor.core.broker.Brokers;
import dev.conveyor.core.transport.ResultBuffer;
import dev.conveyor.core.transport.ResultSink;
import java.io.IOException;
import org.apache.flink.api.connector.sink2.Sink;
import org.apache.flink.api.connector.sink2.SinkWriter;
import org.apache.flink.api.connector.sink2.WriterInitContext;

/**
 * Results to a Conveyor broker's result sink (Redis: result keys, reply lists, the results stream),
 * in the format {@code worker} writes. Each writer stores results in groups of up to {@value
 * #GROUP}, and everything it holds before a checkpoint completes (Flink flushes writers at each
 * barrier), so a source acknowledges only what is stored. A failed store fails the task, which
 * restarts from the last checkpoint: at least once.
 */
final class BrokerSink implements Sink<Classified> {
  private static final int GROUP = 256;
  private final String uri;

  BrokerSink(String uri) {
    this.uri = uri;
  }

  @Override
  public SinkWriter<Classified> createWriter(WriterInitContext context) {
    return new Writer(Brokers.open(uri).sink());
  }

  private static final class Writer implements SinkWriter<Classified> {
    private final ResultBuffer buffer;

    Writer(ResultSink sink) {
      this.buffer = new ResultBuffer(sink, GROUP);
    }

    @Override
    public void write(Classified c, Context context) throws IOException {
      try {
        buffer.add(c.id(), c.replyTo(), c.json());
      } catch (Exception e) {
        throw failed(e);
      }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
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
      buffer.close();
    }
  }
}
