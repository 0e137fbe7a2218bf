package dev.conveyor.spark;

import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.engine.ShutdownStop;
import dev.conveyor.core.settings.SettingGroup;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.ShutdownHookManager;
import scala.runtime.AbstractFunction0;
import scala.runtime.BoxedUnit;

/** Spark as {@code conveyor spark} runs it: the query on {@code local[*]} in this process. */
public final class SparkEngine implements Engine {

  @Override
  public String name() {
    return "spark";
  }

  @Override
  public SettingGroup settings() {
    return JobSettings.SPARK;
  }

  /**
   * Spark's own shutdown hooks, ahead of those that stop the executor (default priority) and the
   * SparkContext: Spark runs them by priority, highest first.
   */
  private static final ShutdownStop.Hooks BEFORE_SPARK_CONTEXT =
      new ShutdownStop.Hooks() {
        @Override
        public Object add(Thread hook) {
          return ShutdownHookManager.addShutdownHook(
              ShutdownHookManager.DEFAULT_SHUTDOWN_PRIORITY() + 10,
              new AbstractFunction0<BoxedUnit>() {
                @Override
                public BoxedUnit apply() {
                  hook.run();
                  return BoxedUnit.UNIT;
                }
              });
        }

        @Override
        public void remove(Object handle) {
          try {
            ShutdownHookManager.removeShutdownHook(handle);
          } catch (IllegalStateException exiting) {
            // the shutdown has begun: the hook waited for the run
          }
        }
      };

  @Override
  public Report runLocally(Map<String, String> settings, Listener listener) throws Exception {
    SparkJob job = SparkJob.of(settings);
    SparkSession spark =
        SparkSession.builder()
            .master(job.parallelism() > 0 ? "local[" + job.parallelism() + "]" : "local[*]")
            .appName(job.name())
            .config("spark.sql.shuffle.partitions", "4")
            .getOrCreate();
    // Ctrl-C: the query is stopped as an interrupt stops it (SparkJob#run: the batch in flight
    // finished, the last batch's entries acknowledged) before Spark's own shutdown stops the
    // executor and the SparkContext
    try {
      return ShutdownStop.run(
          "conveyor-spark-stop", 25, listener, l -> job.run(spark, l), BEFORE_SPARK_CONTEXT);
    } finally {
      spark.stop();
    }
  }
}
