package dev.conveyor.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class ShutdownStopTest {
  /** Keeps the hook instead of giving it to the JVM, so the test can play the shutdown. */
  private static final class Kept implements ShutdownStop.Hooks {
    final AtomicReference<Thread> hook = new AtomicReference<>();
    final CountDownLatch added = new CountDownLatch(1);

    @Override
    public Object add(Thread h) {
      hook.set(h);
      added.countDown();
      return h;
    }

    @Override
    public void remove(Object handle) {}
  }

  @Test
  void aShutdownStopsTheRunAndItsLastLinesAreSaidBeforeTheHookReturns() throws Exception {
    Kept hooks = new Kept();
    List<String> said = new CopyOnWriteArrayList<>();
    Engine.Listener listener =
        new Engine.Listener() {
          @Override
          public void finished(Engine.Report report) {
            said.add("finished " + report.results() + " " + report.errors());
          }
        };
    AtomicReference<Engine.Report> returned = new AtomicReference<>();
    Thread command =
        new Thread(
            () -> {
              try {
                returned.set(
                    ShutdownStop.run(
                        "test-stop",
                        10,
                        listener,
                        l -> {
                          l.progress(7, 1);
                          Thread.sleep(60_000); // a job running until stopped
                          return null;
                        },
                        hooks));
              } catch (Exception e) {
                said.add("failed " + e);
              }
            });
    command.start();
    assertThat(hooks.added.await(10, TimeUnit.SECONDS)).isTrue();
    // the JVM's shutdown: the hook runs, and once it returns the process may end at any moment
    Thread hook = hooks.hook.get();
    hook.start();
    hook.join(10_000);
    assertThat(hook.isAlive()).isFalse();
    assertThat(said).as("said before the hook let the JVM go").containsExactly("finished 7 1");
    command.join(10_000);
    assertThat(returned.get().results()).isEqualTo(7);
  }

  @Test
  void aRunThatEndsByItselfIsFinishedOnceAndItsReportReturned() throws Exception {
    List<Engine.Report> finished = new CopyOnWriteArrayList<>();
    Engine.Report report =
        ShutdownStop.run(
            "test-stop",
            10,
            new Engine.Listener() {
              @Override
              public void finished(Engine.Report r) {
                finished.add(r);
              }
            },
            l -> new Engine.Report(3, 0, 1.5),
            new Kept());
    assertThat(finished).containsExactly(report);
    assertThat(report.results()).isEqualTo(3);
  }
}
