package dev.conveyor.spark;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Json;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.LongAccumulator;

/**
 * Classifies one partition of a micro-batch, in the executor: requests ({@link #REQUESTS}) in,
 * results ({@link #RESULTS}) out, in batches of {@code batch} as the partition's iterator is read
 * (the Java counterpart of Spark's {@code predict_batch_udf}), the next batch decoded while the
 * model runs the current one. The model is opened once per executor JVM and shared by its tasks (a
 * pipeline's {@code classify} is thread-safe: {@link ExecutorModels}). With {@code models}, a
 * repository's models are, each request classified by the model it names, on its version serving
 * when its batch runs. A bad image is an error row.
 */
final class ClassifyPartition implements MapPartitionsFunction<Row, Row> {
  /**
   * What a source gives: a request's id, source, bytes (or a file path in source), type, reply, and
   * the model it names (null for the default).
   */
  static final StructType REQUESTS =
      new StructType()
          .add("id", DataTypes.StringType)
          .add("source", DataTypes.StringType)
          .add("bytes", DataTypes.BinaryType)
          .add("content_type", DataTypes.StringType)
          .add("reply_to", DataTypes.StringType)
          .add("model", DataTypes.StringType);

  /** A result: the request's id and reply address, whether it is an error, and its JSON. */
  static final StructType RESULTS =
      new StructType()
          .add("id", DataTypes.StringType)
          .add("reply_to", DataTypes.StringType)
          .add("ok", DataTypes.BooleanType)
          .add("json", DataTypes.StringType);

  private final Map<String, String> settings;
  private final int batch;
  private final LongAccumulator results;
  private final LongAccumulator errors;

  ClassifyPartition(Map<String, String> settings, LongAccumulator results, LongAccumulator errors) {
    this.settings = Map.copyOf(settings);
    this.batch = ServedModels.read(settings, "query").get(PipelineSettings.BATCH);
    this.results = results;
    this.errors = errors;
  }

  private ServedModels models() {
    return ExecutorModels.open(settings, "query");
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    // results come back in request order: each takes the reply address recorded as it was read
    ArrayDeque<String> replies = new ArrayDeque<>();
    Iterator<ImageRequest> requests =
        new Iterator<>() {
          @Override
          public boolean hasNext() {
            return rows.hasNext();
          }

          @Override
          public ImageRequest next() {
            ImageRequest r = request(rows.next());
            replies.add(r.replyTo() == null ? "" : r.replyTo());
            return r;
          }
        };
    ServedModels models = models();
    Iterator<ClassifyResult> out =
        models.repository().isPresent()
            ? byModel(models, requests)
            : models.lease(null).pipeline().classify(requests, ExecutorModels.PREPARERS);
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return out.hasNext();
      }

      @Override
      public Row next() {
        ClassifyResult r = out.next();
        results.add(1);
        if (!r.isOk()) {
          errors.add(1);
        }
        String reply = replies.poll();
        return RowFactory.create(
            r.id(), reply == null || reply.isEmpty() ? null : reply, r.isOk(), Json.write(r));
      }
    };
  }

  /**
   * The results of requests that may name different models: a batch's worth at a time, each model's
   * share on its serving version then, so that a version published meanwhile takes the batches
   * after it.
   */
  private Iterator<ClassifyResult> byModel(ServedModels models, Iterator<ImageRequest> requests) {
    return new Iterator<>() {
      private final ArrayDeque<ClassifyResult> ready = new ArrayDeque<>();

      @Override
      public boolean hasNext() {
        if (ready.isEmpty() && requests.hasNext()) {
          List<ImageRequest> next = new ArrayList<>(batch);
          while (next.size() < batch && requests.hasNext()) {
            next.add(requests.next());
          }
          ready.addAll(models.classify(next));
        }
        return !ready.isEmpty();
      }

      @Override
      public ClassifyResult next() {
        if (!hasNext()) {
          throw new java.util.NoSuchElementException();
        }
        return ready.poll();
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
            System.nanoTime())
        .withModel(r.length() > 5 ? r.getString(5) : null);
  }
}
