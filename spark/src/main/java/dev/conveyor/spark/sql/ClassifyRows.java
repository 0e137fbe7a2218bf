package dev.conveyor.spark.sql;

import dev.conveyor.assembly.ServedModels;
import dev.conveyor.core.ClassifyResult;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.Prediction;
import dev.conveyor.core.worker.Models;
import dev.conveyor.spark.ExecutorModels;
import java.io.Serializable;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.apache.spark.util.TaskCompletionListener;
import scala.collection.immutable.Seq;
import scala.jdk.javaapi.CollectionConverters;
import scala.runtime.AbstractFunction1;

/**
 * Classifies one partition's rows in the executor, for {@link BatchClassifyExec}: each row's
 * content is a request, read in batches of {@code batch} as the partition is read, the next batch
 * decoded while the model runs the current one; each row comes out with its result appended, in the
 * order it came. The model is the executor's ({@link ExecutorModels}), opened once and shared by
 * its tasks. A bad image gives a result with {@code error} set; a NULL content gives NULL.
 */
final class ClassifyRows
    extends AbstractFunction1<
        scala.collection.Iterator<InternalRow>, scala.collection.Iterator<InternalRow>>
    implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The session options that hold the model's settings: {@code spark.conveyor.model}, … */
  static final String PREFIX = "spark.conveyor.";

  static final StructType PREDICTION =
      new StructType()
          .add("class_index", DataTypes.IntegerType)
          .add("label", DataTypes.StringType)
          .add("score", DataTypes.FloatType);

  static final StructType ERROR =
      new StructType().add("code", DataTypes.StringType).add("message", DataTypes.StringType);

  /**
   * What {@code classify} gives: the best label, its score and index, the top-k best first, the
   * model (and its version, from a repository); or, for an image that cannot be classified, {@code
   * error} with its code and message, and the rest NULL.
   */
  static final StructType RESULT =
      new StructType()
          .add("label", DataTypes.StringType)
          .add("score", DataTypes.FloatType)
          .add("class_index", DataTypes.IntegerType)
          .add("top_k", DataTypes.createArrayType(PREDICTION, false))
          .add("model", DataTypes.StringType)
          .add("version", DataTypes.LongType)
          .add("error", ERROR);

  private final Expression content;
  private final Seq<Attribute> input;
  private final Seq<Attribute> output;
  private final Map<String, String> settings;

  ClassifyRows(
      Expression content,
      Seq<Attribute> input,
      Seq<Attribute> output,
      Map<String, String> settings) {
    this.content = content;
    this.input = input;
    this.output = output;
    this.settings = settings;
  }

  /**
   * The model's settings among a session's options, by their names without {@link #PREFIX},
   * checked.
   *
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} naming a wrong one
   */
  static Map<String, String> settings(scala.collection.immutable.Map<String, String> options) {
    Map<String, String> settings = new HashMap<>();
    CollectionConverters.asJava(options)
        .forEach(
            (k, v) -> {
              if (k.startsWith(PREFIX)) {
                settings.put(k.substring(PREFIX.length()), v);
              }
            });
    ServedModels.read(settings, PREFIX + "*");
    return Map.copyOf(settings);
  }

  @Override
  public scala.collection.Iterator<InternalRow> apply(scala.collection.Iterator<InternalRow> rows) {
    UnsafeProjection argument = UnsafeProjection.create(Scala.seq(content), input);
    UnsafeProjection joinedOut = UnsafeProjection.create(Scala.<Expression>widen(output), output);
    JoinedRow joined = new JoinedRow();
    Models.Lease lease = ExecutorModels.open(settings, PREFIX + "*").lease(null);
    TaskContext task = TaskContext.get();
    String prefix = task == null ? "row-" : "p" + task.partitionId() + "-";
    if (task != null) {
      task.addTaskCompletionListener((TaskCompletionListener) done -> lease.close());
    }
    // rows wait here, in order, for their results
    ArrayDeque<Waiting> waiting = new ArrayDeque<>();
    Iterator<ImageRequest> requests =
        new Iterator<>() {
          private long n;

          @Override
          public boolean hasNext() {
            return rows.hasNext();
          }

          @Override
          public ImageRequest next() {
            InternalRow row = rows.next().copy();
            InternalRow arg = argument.apply(row);
            waiting.add(new Waiting(row, arg.isNullAt(0)));
            String id = prefix + n++;
            return arg.isNullAt(0)
                ? ImageRequest.unreadable(id, id, "NULL content")
                : new ImageRequest(id, id, arg.getBinary(0), null, null, System.nanoTime());
          }
        };
    Iterator<ClassifyResult> results =
        lease.pipeline().classify(requests, ExecutorModels.PREPARERS);
    Iterator<InternalRow> out =
        new Iterator<>() {
          @Override
          public boolean hasNext() {
            return results.hasNext();
          }

          @Override
          public InternalRow next() {
            if (!hasNext()) {
              throw new NoSuchElementException();
            }
            ClassifyResult r = lease.named(List.of(results.next())).get(0);
            Waiting row = waiting.poll();
            GenericInternalRow value =
                new GenericInternalRow(new Object[] {row.absent() ? null : struct(r)});
            return joinedOut.apply(joined.apply(row.row(), value)).copy();
          }
        };
    return CollectionConverters.asScala(out);
  }

  /** A row waiting for its result, and whether its content was NULL (its result is NULL then). */
  private record Waiting(InternalRow row, boolean absent) {}

  /** A result as {@link #RESULT}'s struct. */
  static InternalRow struct(ClassifyResult r) {
    if (!r.isOk()) {
      InternalRow error =
          new GenericInternalRow(
              new Object[] {
                UTF8String.fromString(r.error().code().name()),
                UTF8String.fromString(r.error().message())
              });
      return new GenericInternalRow(new Object[] {null, null, null, null, null, null, error});
    }
    List<Prediction> top = r.predictions();
    Object[] topK = new Object[top.size()];
    for (int i = 0; i < topK.length; i++) {
      Prediction p = top.get(i);
      topK[i] =
          new GenericInternalRow(
              new Object[] {p.index(), UTF8String.fromString(p.label()), p.score()});
    }
    Prediction best = top.get(0);
    return new GenericInternalRow(
        new Object[] {
          UTF8String.fromString(best.label()),
          best.score(),
          best.index(),
          new GenericArrayData(topK),
          r.model() == null ? null : UTF8String.fromString(r.model()),
          r.version(),
          null
        });
  }
}
