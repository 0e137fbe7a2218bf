package dev.conveyor.spark.sql;

import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.SparkPlan;
import org.apache.spark.sql.execution.SparkStrategy;
import scala.collection.immutable.Seq;

/**
 * Plans {@link BatchClassify} as {@link BatchClassifyExec}, with the model settings the session's
 * {@code spark.conveyor.*} options hold when the query is planned, checked here on the driver.
 */
public final class ClassifyStrategy extends SparkStrategy {
  private final SparkSession session;

  public ClassifyStrategy(SparkSession session) {
    this.session = session;
  }

  @Override
  public Seq<SparkPlan> apply(LogicalPlan plan) {
    if (plan instanceof BatchClassify b) {
      Map<String, String> settings = ClassifyRows.settings(session.conf().getAll());
      return Scala.seq(
          new BatchClassifyExec(b.content(), b.result(), settings, planLater(b.child())));
    }
    return Scala.seq();
  }
}
