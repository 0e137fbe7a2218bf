package dev.conveyor.spark.sql;

import java.util.Map;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.AttributeSet$;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.UnaryExecNode;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;
import scala.reflect.ClassTag$;

/**
 * {@link BatchClassify} run: each partition's rows classified in batches by {@link ClassifyRows}.
 */
public final class BatchClassifyExec extends SparkPlan implements UnaryExecNode {
  private final Expression content;
  private final Attribute result;
  private final Map<String, String> settings;
  private final SparkPlan child;

  public BatchClassifyExec(
      Expression content, Attribute result, Map<String, String> settings, SparkPlan child) {
    this.content = content;
    this.result = result;
    this.settings = Map.copyOf(settings);
    this.child = child;
  }

  @Override
  public RDD<InternalRow> doExecute() {
    ClassifyRows rows = new ClassifyRows(content, child.output(), output(), settings);
    return child
        .execute()
        .mapPartitionsInternal(rows, false, ClassTag$.MODULE$.apply(InternalRow.class));
  }

  @Override
  public SparkPlan child() {
    return child;
  }

  @Override
  public Seq<SparkPlan> children() {
    return Scala.seq(child);
  }

  @Override
  public Seq<Attribute> output() {
    return Scala.append(child.output(), result);
  }

  @Override
  public AttributeSet producedAttributes() {
    return AttributeSet$.MODULE$.apply(result);
  }

  @Override
  public SparkPlan withNewChildInternal(SparkPlan newChild) {
    return new BatchClassifyExec(content, result, settings, newChild);
  }

  @Override
  public SparkPlan withNewChildrenInternal(IndexedSeq<SparkPlan> children) {
    return withNewChildInternal(children.apply(0));
  }

  /** The plan's line in {@code explain}: the settings' names only, their values may be secret. */
  @Override
  public String simpleString(int maxFields) {
    return "BatchClassify classify(" + content + ") AS " + result + " " + settings.keySet();
  }

  @Override
  public int productArity() {
    return 4;
  }

  @Override
  public Object productElement(int n) {
    return switch (n) {
      case 0 -> content;
      case 1 -> result;
      case 2 -> settings;
      case 3 -> child;
      default -> throw new IndexOutOfBoundsException(n);
    };
  }

  @Override
  public boolean canEqual(Object o) {
    return o instanceof BatchClassifyExec;
  }

  @Override
  public boolean equals(Object o) {
    return Scala.sameProduct(this, o);
  }

  @Override
  public int hashCode() {
    return super.hashCode();
  }
}
