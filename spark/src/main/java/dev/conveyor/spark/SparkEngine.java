package dev.conveyor.spark;

import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.engine.LocalEngine;
import dev.conveyor.core.engine.ShutdownStop;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.util.ShutdownHookManager;
import scala.runtime.AbstractFunction0;
import scala.runtime.BoxedUnit;

/** Spark as {@code conveyor spark} runs it: the query on {@code local[*]} in this process. */
public final class SparkEngine extends LocalEngine {

  public SparkEngine() {
    // a stop lets the batch in flight finish: SparkJob#run
    super("spark", JobSettings.SPARK, 25);
  }

  @Override
  public String localParallelism(int parallelism) {
    return master(parallelism);
  }

  /** Spark's local master with this many task slots; all the machine's cores for 0. */
  private static String master(int parallelism) {
    return parallelism > 0 ? "local[" + parallelism + "]" : "local[*]";
  }

  @Override
  protected LocalRun prepare(Map<String, String> settings) {
    SparkJob job = SparkJob.of(settings);
    SparkSession spark =
        SparkSession.builder()
            .master(master(job.parallelism()))
            .appName(job.name())
            .config("spark.sql.shuffle.partitions", "4")
            .config("spark.sql.extensions", SqlFunctionQuery.extensions(null))
            .getOrCreate();
    return new LocalRun() {
      @Override
      public Report run(Listener listener) throws Exception {
        return job.run(spark, listener);
      }

      @Override
      public void close() {
        spark.stop();
      }
    };
  }

  /**
   * Ahead of Spark's own shutdown hooks that stop the executor (default priority) and the
   * SparkContext, so the query is stopped (the batch in flight finished, the last batch's entries
   * acknowledged) while they still run: Spark runs its hooks by priority, highest first.
   */
  @Override
  protected ShutdownStop.Hooks shutdownHooks() {
    return new ShutdownStop.Hooks() {
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
  }
}
