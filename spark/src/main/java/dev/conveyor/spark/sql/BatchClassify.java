package dev.conveyor.spark.sql;

import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeSet;
import org.apache.spark.sql.catalyst.expressions.AttributeSet$;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.UnaryNode;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * The rows of {@code child}, each with {@code result}: {@code classify} of its {@code content}.
 * Planned as {@link BatchClassifyExec}.
 */
public final class BatchClassify extends LogicalPlan implements UnaryNode {
  private final Expression content;
  private final Attribute result;
  private final LogicalPlan child;

  public BatchClassify(Expression content, Attribute result, LogicalPlan child) {
    this.content = content;
    this.result = result;
    this.child = child;
  }

  public Expression content() {
    return content;
  }

  public Attribute result() {
    return result;
  }

  @Override
  public LogicalPlan child() {
    return child;
  }

  @Override
  public Seq<LogicalPlan> children() {
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
  public LogicalPlan withNewChildInternal(LogicalPlan newChild) {
    return new BatchClassify(content, result, newChild);
  }

  @Override
  public LogicalPlan withNewChildrenInternal(IndexedSeq<LogicalPlan> children) {
    return withNewChildInternal(children.apply(0));
  }

  @Override
  public String simpleString(int maxFields) {
    return "BatchClassify classify(" + content + ") AS " + result;
  }

  @Override
  public int productArity() {
    return 3;
  }

  @Override
  public Object productElement(int n) {
    return switch (n) {
      case 0 -> content;
      case 1 -> result;
      case 2 -> child;
      default -> throw new IndexOutOfBoundsException(n);
    };
  }

  @Override
  public boolean canEqual(Object o) {
    return o instanceof BatchClassify;
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
