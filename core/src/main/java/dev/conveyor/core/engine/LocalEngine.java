package dev.conveyor.core.engine;

import dev.conveyor.core.settings.SettingGroup;
import java.util.Map;

/**
 * What every {@link Engine} shares: its name and settings, and a local run that reads the job,
 * starts an embedded cluster for it, runs it on the calling thread so that a JVM shutdown stops it
 * ({@link ShutdownStop}), and closes the cluster. An engine says only how its cluster starts and
 * stops.
 */
public abstract class LocalEngine implements Engine {
  private final String name;
  private final SettingGroup settings;
  private final long stopSeconds;

  /**
   * @param stopSeconds the longest a JVM shutdown waits for the job to stop
   */
  protected LocalEngine(String name, SettingGroup settings, long stopSeconds) {
    this.name = name;
    this.settings = settings;
    this.stopSeconds = stopSeconds;
  }

  /** A job on its embedded cluster, ready to run. */
  protected interface LocalRun extends AutoCloseable {
    /** Runs the job until a bounded source is used up, or until this thread is interrupted. */
    Report run(Listener listener) throws Exception;

    /** Stops the cluster, once the job has ended. */
    @Override
    default void close() {}
  }

  /**
   * Reads the job's settings and starts a cluster for it.
   *
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} naming a wrong setting,
   *     before a cluster starts
   */
  protected abstract LocalRun prepare(Map<String, String> settings) throws Exception;

  /**
   * Where the stop is registered to run at shutdown: the JVM's hooks, unless the engine's own
   * shutdown would stop the job first.
   */
  protected ShutdownStop.Hooks shutdownHooks() {
    return ShutdownStop.Hooks.JVM;
  }

  @Override
  public final String name() {
    return name;
  }

  @Override
  public final SettingGroup settings() {
    return settings;
  }

  @Override
  public final Report runLocally(Map<String, String> settings, Listener listener) throws Exception {
    try (LocalRun run = prepare(settings)) {
      // Ctrl-C: the job is stopped as an interrupt stops it, before the JVM exits
      return ShutdownStop.run(
          "conveyor-" + name + "-stop", stopSeconds, listener, run::run, shutdownHooks());
    }
  }
}
