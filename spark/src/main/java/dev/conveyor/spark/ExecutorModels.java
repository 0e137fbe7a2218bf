package dev.conveyor.spark;

import dev.conveyor.assembly.ServedModels;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.spark.util.ShutdownHookManager;
import scala.runtime.AbstractFunction0;
import scala.runtime.BoxedUnit;

/**
 * What an executor JVM classifies with, shared by its tasks: the models opened, one per set of
 * settings (a pipeline's {@code classify} is thread-safe), and the threads that decode and
 * preprocess the next batch while the model runs the current one. Both the Structured Streaming
 * query ({@link ClassifyPartition}) and the SQL function {@code classify} use them.
 */
public final class ExecutorModels {
  private static final Map<Map<String, String>, ServedModels> OPEN = new ConcurrentHashMap<>();

  /**
   * Run the model, and decode and preprocess while it runs: daemon threads, one per core besides
   * the one that runs the model, as a worker's are.
   */
  public static final ExecutorService PREPARERS =
      Executors.newFixedThreadPool(
          Runtime.getRuntime().availableProcessors() + 1,
          r -> {
            Thread t = new Thread(r, "conveyor-prepare");
            t.setDaemon(true);
            return t;
          });

  static {
    // closed once the SparkContext has stopped (Spark runs its shutdown hooks by priority, highest
    // first), not beside them: a query stopping at shutdown lets the batch in flight end first
    ShutdownHookManager.addShutdownHook(
        ShutdownHookManager.SPARK_CONTEXT_SHUTDOWN_PRIORITY() - 1,
        new AbstractFunction0<BoxedUnit>() {
          @Override
          public BoxedUnit apply() {
            OPEN.values().forEach(ServedModels::close);
            return BoxedUnit.UNIT;
          }
        });
  }

  private ExecutorModels() {}

  /**
   * The models these settings name, opened on first use in this JVM.
   *
   * @param where where the settings came from, for error messages
   */
  public static ServedModels open(Map<String, String> settings, String where) {
    return OPEN.computeIfAbsent(
        Map.copyOf(settings), s -> ServedModels.open(ServedModels.read(s, where)));
  }
}
