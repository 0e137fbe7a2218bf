package dev.conveyor.spark.sql;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression$;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.rules.Rule;
import scala.Option;
import scala.collection.immutable.Seq;
import scala.runtime.BoxedUnit;

/**
 * Takes each {@code classify(content)} out of the operator using it (a projection, a filter, an
 * aggregate, a sort) into a {@link BatchClassify} node under it, and has the operator read the
 * node's result column instead; the same call twice is run once. As Spark's {@code
 * ExtractPythonUDFs} does for Python's functions.
 */
public final class ExtractClassify extends Rule<LogicalPlan> {
  @Override
  public LogicalPlan apply(LogicalPlan plan) {
    LogicalPlan rewritten = plan.transformUp(Scala.on(LogicalPlan.class, this::extract));
    rewritten.foreach(
        node -> {
          if (node.expressions().exists(e -> e.exists(x -> x instanceof Classify))) {
            throw new ConveyorException(
                ErrorCode.INVALID_SETTING,
                "classify(...) can be used in SELECT, WHERE, GROUP BY and ORDER BY over one"
                    + " input, not in "
                    + node.nodeName()
                    + ": classify in a subquery first, then join or nest its result");
          }
          return BoxedUnit.UNIT;
        });
    return rewritten;
  }

  private LogicalPlan extract(LogicalPlan node) {
    if (node instanceof BatchClassify || node.children().size() != 1) {
      return node;
    }
    LogicalPlan child = node.children().head();
    Map<Expression, Attribute> found = new LinkedHashMap<>();
    node.expressions()
        .foreach(
            e -> {
              e.foreach(
                  x -> {
                    if (x instanceof Classify c
                        && c.references().subsetOf(child.outputSet())
                        && !c.content().exists(y -> y instanceof Classify)) {
                      found.computeIfAbsent(c.canonicalized(), k -> result(c, found.size()));
                    }
                    return BoxedUnit.UNIT;
                  });
              return BoxedUnit.UNIT;
            });
    if (found.isEmpty()) {
      return node;
    }
    LogicalPlan below = child;
    for (Map.Entry<Expression, Attribute> f : found.entrySet()) {
      below = new BatchClassify(((Classify) f.getKey()).content(), f.getValue(), below);
    }
    LogicalPlan rewritten =
        node.withNewChildren(Scala.seq(below))
            .transformExpressions(
                Scala.on(
                    Classify.class,
                    (Expression e) -> {
                      Attribute a = found.get(e.canonicalized());
                      return a == null ? e : a;
                    }));
    if (!rewritten.output().equals(node.output())) {
      @SuppressWarnings("unchecked")
      Seq<NamedExpression> output = (Seq<NamedExpression>) (Seq<?>) node.output();
      rewritten = new Project(output, rewritten);
    }
    return rewritten;
  }

  private static Attribute result(Classify c, int n) {
    return new Alias(
            c,
            "classify" + n,
            NamedExpression$.MODULE$.newExprId(),
            Scala.seq(),
            Option.empty(),
            Scala.seq())
        .toAttribute();
  }
}
