package dev.conveyor.core.engine;

import java.util.Map;

/**
 * A stream-processing engine Conveyor runs inside as a job (Flink, Spark), on an embedded cluster
 * in this process. Each engine module ships one, listed in {@code
 * META-INF/services/dev.conveyor.core.engine.Engine}; {@link Engines} finds it there, so the
 * command line builds and starts without the engine's libraries and takes them only when the engine
 * is asked for.
 */
public interface Engine {

  /** The engine's name, as the command that runs it: {@code flink}. */
  String name();

  /** The engine's own settings ({@link JobSettings#FLINK}, {@link JobSettings#SPARK}). */
  dev.conveyor.core.settings.SettingGroup settings();

  /**
   * Runs the job on an embedded cluster until a bounded source is used up, or until this thread is
   * interrupted.
   *
   * @param settings the job's settings ({@link JobSettings}) and the pipeline's, by name
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} naming a wrong setting,
   *     before anything starts
   */
  Report runLocally(Map<String, String> settings, Listener listener) throws Exception;

  /**
   * What a local run's parallel work is called in the line it ends with: {@code 2 parallel tasks},
   * {@code local[*]}.
   *
   * @param parallelism the {@link JobSettings#PARALLELISM} setting; 0 for the engine's default
   */
  String localParallelism(int parallelism);

  /** What a running job tells the command that started it. */
  interface Listener {
    /** A result's JSON, when the sink is {@code -}: results come back to this process. */
    default void result(String json) {}

    /** Results so far, about once a second. */
    default void progress(long results, long errors) {}

    /** The engine's own word on how it goes (Spark: rows/s in and processed, batch time). */
    default void status(String line) {}

    /** Something the user must know about the run: input the engine will not read. */
    default void warning(String line) {}

    /**
     * The run ended, stopped or not, with this report: the place for a command's last lines. A run
     * stopped by the JVM's shutdown says it before the process exits, which it would not wait for
     * once the run returns.
     */
    default void finished(Report report) {}

    /**
     * What a job run by {@code flink run} or {@code spark-submit} tells: results on {@code out}, as
     * JSON lines, and warnings on {@code err}.
     */
    static Listener printing(java.io.PrintStream out, java.io.PrintStream err) {
      return new Listener() {
        @Override
        public void result(String json) {
          out.println(json);
        }

        @Override
        public void warning(String line) {
          err.println("warning: " + line);
        }
      };
    }
  }

  /** What a job did: results, errors among them, and its runtime. */
  record Report(long results, long errors, double seconds) {
    public double imagesPerSecond() {
      return seconds > 0 ? results / seconds : 0;
    }

    /** The line a run ends with, as seed 001's job prints it: counts, runtime and images/s. */
    public String summary() {
      return String.format(
          java.util.Locale.ROOT,
          "classified %d images (%d errors) in %.1f s: %.1f images/s",
          results,
          errors,
          seconds,
          imagesPerSecond());
    }
  }
}
