package dev.conveyor.spark.sql;

import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.analysis.TypeCheckResult;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Unevaluable;
import org.apache.spark.sql.catalyst.expressions.codegen.CodegenContext;
import org.apache.spark.sql.catalyst.expressions.codegen.ExprCode;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataType;
import scala.collection.immutable.IndexedSeq;
import scala.collection.immutable.Seq;

/**
 * {@code classify(content)} in a query: never evaluated a row at a time, but taken out of its
 * projection by {@link ExtractClassify} into a {@link BatchClassify} node, which runs the model on
 * batches of rows, as Spark does with Python's vectorized functions.
 */
public final class Classify extends Expression implements Unevaluable {
  private final Expression content;

  public Classify(Expression content) {
    this.content = content;
  }

  public Expression content() {
    return content;
  }

  @Override
  public Seq<Expression> children() {
    return Scala.seq(content);
  }

  @Override
  public Expression withNewChildrenInternal(IndexedSeq<Expression> children) {
    return new Classify(children.apply(0));
  }

  @Override
  public DataType dataType() {
    return ClassifyRows.RESULT;
  }

  @Override
  public boolean nullable() {
    return true;
  }

  /** Never folded into a constant, even over a literal: the model runs in the executors. */
  @Override
  public boolean foldable() {
    return false;
  }

  @Override
  public boolean deterministic() {
    return true;
  }

  @Override
  public String prettyName() {
    return "classify";
  }

  @Override
  public TypeCheckResult checkInputDataTypes() {
    if (content.dataType() instanceof BinaryType) {
      return TypeCheckResult.TypeCheckSuccess$.MODULE$;
    }
    return new TypeCheckResult.TypeCheckFailure(
        "classify takes the image's bytes, a BINARY column (binaryFile's content, a Kafka"
            + " record's value), not "
            + content.dataType().simpleString());
  }

  @Override
  public Object eval(InternalRow row) {
    throw new UnsupportedOperationException("classify runs in batches, planned by ExtractClassify");
  }

  @Override
  public ExprCode doGenCode(CodegenContext ctx, ExprCode ev) {
    throw new UnsupportedOperationException("classify runs in batches, planned by ExtractClassify");
  }

  @Override
  public int productArity() {
    return 1;
  }

  @Override
  public Object productElement(int n) {
    if (n == 0) {
      return content;
    }
    throw new IndexOutOfBoundsException(n);
  }

  @Override
  public boolean canEqual(Object o) {
    return o instanceof Classify;
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
