package dev.conveyor.spark;

import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.pipeline.PipelineSettings;
import dev.conveyor.pipeline.Pipelines;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * Classifies one partition of a micro-batch, in the executor: requests ({@link #REQUESTS}) in,
 * results ({@link #RESULTS}) out, in batches of {@code batch} as the partition's iterator is read
 * (the Java counterpart of Spark's {@code predict_batch_udf}). The pipeline is opened once per
 * executor JVM and shared by its tasks ({@link Pipeline#classify} is thread-safe). A bad image is
 * an error row.
 */
final class ClassifyPartition implements MapPartitionsFunction<Row, Row> {
  /** What a source gives: a request's id, source, bytes (or a file path in source), type, reply. */
  static final StructType REQUESTS =
      new StructType()
          .add("id", DataTypes.StringType)
          .add("source", DataTypes.StringType)
          .add("bytes", DataTypes.BinaryType)
          .add("content_type", DataTypes.StringType)
          .add("reply_to", DataTypes.StringType);

  /** A result: the request's id and reply address, whether it is an error, and its JSON. */
  static final StructType RESULTS =
      new StructType()
          .add("id", DataTypes.StringType)
          .add("reply_to", DataTypes.StringType)
          .add("ok", DataTypes.BooleanType)
          .add("json", DataTypes.StringType);

  /** The pipelines this executor has opened, by their settings. */
  private static final Map<Map<String, String>, Pipeline> OPEN = new ConcurrentHashMap<>();

  static {
    Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.values().forEach(Pipeline::close)));
  }

  private final Map<String, String> settings;
  private final int batch;
  private final LongAccumulator results;
  private final LongAccumulator errors;

  ClassifyPartition(Map<String, String> settings, LongAccumulator results, LongAccumulator errors) {
    this.settings = Map.copyOf(settings);
    this.batch = Pipelines.read(settings, "query").get(PipelineSettings.BATCH);
    this.results = results;
    this.errors = errors;
  }

  private Pipeline pipeline() {
    return OPEN.computeIfAbsent(settings, Pipelines::open);
  }

  @Override
  public Iterator<Row> call(Iterator<Row> requests) {
    return new Iterator<>() {
      private final ArrayDeque<Row> ready = new ArrayDeque<>();

      @Override
      public boolean hasNext() {
        if (ready.isEmpty() && requests.hasNext()) {
          classifyNext();
        }
        return !ready.isEmpty();
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return ready.poll();
      }

      private void classifyNext() {
        List<ImageRequest> chunk = new ArrayList<>(batch);
        while (chunk.size() < batch && requests.hasNext()) {
          chunk.add(request(requests.next()));
        }
        List<ClassifyResult> out = pipeline().classify(chunk);
        for (int i = 0; i < out.size(); i++) {
          ClassifyResult r = out.get(i);
          results.add(1);
          if (!r.isOk()) {
            errors.add(1);
          }
          ready.add(RowFactory.create(r.id(), chunk.get(i).replyTo(), r.isOk(), Json.write(r)));
        }
      }
    };
  }

  private static ImageRequest request(Row r) {
    return new ImageRequest(
        r.getString(0),
        r.getString(1),
        (byte[]) r.get(2),
        r.getString(3),
        r.getString(4),
        System.nanoTime());
  }
}
