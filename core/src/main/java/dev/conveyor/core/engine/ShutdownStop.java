package dev.conveyor.core.engine;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs an engine's job on the calling thread so that a JVM shutdown (Ctrl-C, {@code kill}) stops it
 * the way an interrupt does, before the JVM exits: a shutdown hook interrupts the thread and waits
 * for the run to end. A run stopped that way ends with the counts its listener last heard (the job
 * reports its final ones as it stops), not an exception, and the listener hears {@link
 * Engine.Listener#finished} before the hook returns, so the command's summary line is printed
 * before the process exits.
 */
public final class ShutdownStop {
  private ShutdownStop() {}

  /** A job's run, given the listener to tell. */
  @FunctionalInterface
  public interface Run {
    Engine.Report run(Engine.Listener listener) throws Exception;
  }

  /** Where the stop is registered to run at shutdown: the JVM's hooks, or an engine's own. */
  public interface Hooks {
    /** Registers the hook; returns what {@link #remove} takes. */
    Object add(Thread hook);

    /** Unregisters it, unless the shutdown has begun. */
    void remove(Object handle);

    /** The JVM's shutdown hooks. */
    Hooks JVM =
        new Hooks() {
          @Override
          public Object add(Thread hook) {
            Runtime.getRuntime().addShutdownHook(hook);
            return hook;
          }

          @Override
          public void remove(Object handle) {
            try {
              Runtime.getRuntime().removeShutdownHook((Thread) handle);
            } catch (IllegalStateException exiting) {
              // the hook is running: it waited for the run
            }
          }
        };
  }

  /**
   * Runs the job with the stop among the JVM's shutdown hooks.
   *
   * @param name the hook thread's name
   * @param wait the longest the hook waits for the job to stop, in seconds
   */
  public static Engine.Report run(String name, long wait, Engine.Listener listener, Run run)
      throws Exception {
    return run(name, wait, listener, run, Hooks.JVM);
  }

  /**
   * Runs the job with the stop registered in {@code hooks}: an engine whose own shutdown would stop
   * it first registers it ahead of that.
   *
   * @param name the hook thread's name
   * @param wait the longest the hook waits for the job to stop, in seconds
   */
  public static Engine.Report run(
      String name, long wait, Engine.Listener listener, Run run, Hooks hooks) throws Exception {
    long start = System.nanoTime();
    long[] last = new long[2];
    Engine.Listener counting =
        new Engine.Listener() {
          @Override
          public void result(String json) {
            listener.result(json);
          }

          @Override
          public void progress(long results, long errors) {
            synchronized (last) {
              last[0] = results;
              last[1] = errors;
            }
            listener.progress(results, errors);
          }

          @Override
          public void status(String line) {
            listener.status(line);
          }

          @Override
          public void warning(String line) {
            listener.warning(line);
          }
        };
    Thread runner = Thread.currentThread();
    CountDownLatch finished = new CountDownLatch(1);
    AtomicBoolean shuttingDown = new AtomicBoolean();
    Thread hook =
        new Thread(
            () -> {
              shuttingDown.set(true);
              runner.interrupt();
              try {
                finished.await(wait, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            },
            name);
    Object registered = hooks.add(hook);
    Engine.Report report = null;
    try {
      report = run.run(counting);
      return report;
    } catch (InterruptedException e) {
      if (!shuttingDown.get()) {
        throw e;
      }
      synchronized (last) {
        report = new Engine.Report(last[0], last[1], (System.nanoTime() - start) / 1e9);
      }
      return report;
    } finally {
      try {
        if (report != null) {
          // before the hook lets the JVM go on exiting: the summary is said while it still can be
          listener.finished(report);
        }
      } finally {
        finished.countDown();
        hooks.remove(registered);
      }
    }
  }
}
