package dev.conveyor.flink;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.broker.Brokers;
import dev.conveyor.core.transport.ResultSink;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
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
    private final ResultSink sink;
    private List<ImageRequest> requests = new ArrayList<>(GROUP);
    private List<ClassifyResult> results = new ArrayList<>(GROUP);

    Writer(ResultSink sink) {
      this.sink = sink;
    }

    @Override
    public void write(Classified c, Context context) throws IOException {
      requests.add(new ImageRequest(c.id(), c.id(), null, null, c.replyTo(), 0));
      results.add(Json.read(c.json(), ClassifyResult.class));
      if (results.size() >= GROUP) {
        store();
      }
    }

    @Override
    public void flush(boolean endOfInput) throws IOException {
      store();
    }

    private void store() throws IOException {
      if (results.isEmpty()) {
        return;
      }
      try {
        sink.deliver(requests, results);
      } catch (IOException e) {
        throw e;
      } catch (Exception e) {
        throw new IOException(
            "could not store " + results.size() + " results: " + e.getMessage(), e);
      }
      requests = new ArrayList<>(GROUP);
      results = new ArrayList<>(GROUP);
    }

    @Override
    public void close() {
      sink.close();
    }
  }
}
