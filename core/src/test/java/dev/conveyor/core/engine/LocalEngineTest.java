package dev.conveyor.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(30)
class LocalEngineTest {
  /** An engine whose cluster is a list of what happened to it. */
  private static final class Recorded extends LocalEngine {
    final List<String> said = new CopyOnWriteArrayList<>();
    final Exception failure;

    Recorded(Exception failure) {
      super("recorded", JobSettings.FLINK, 5);
      this.failure = failure;
    }

    @Override
    public String localParallelism(int parallelism) {
      return parallelism + " tasks";
    }

    @Override
    protected LocalRun prepare(Map<String, String> settings) {
      said.add("started for " + settings.get("source"));
      return new LocalRun() {
        @Override
        public Report run(Listener listener) throws Exception {
          said.add("ran on " + Thread.currentThread().getName());
          listener.progress(3, 1);
          if (failure != null) {
            throw failure;
          }
          return new Report(3, 1, 0.5);
        }

        @Override
        public void close() {
          said.add("stopped");
        }
      };
    }
  }

  @Test
  void aLocalRunStartsTheClusterRunsTheJobHereTellsTheEndAndStopsTheCluster() throws Exception {
    Recorded engine = new Recorded(null);
    List<Engine.Report> finished = new CopyOnWriteArrayList<>();
    Engine.Report report =
        engine.runLocally(
            Map.of("source", "photos/"),
            new Engine.Listener() {
              @Override
              public void finished(Engine.Report r) {
                finished.add(r);
              }
            });
    assertThat(report).isEqualTo(new Engine.Report(3, 1, 0.5));
    assertThat(finished).containsExactly(report);
    assertThat(engine.said)
        .containsExactly(
            "started for photos/", "ran on " + Thread.currentThread().getName(), "stopped");
    assertThat(engine.name()).isEqualTo("recorded");
    assertThat(engine.settings()).isSameAs(JobSettings.FLINK);
  }

  @Test
  void theClusterStopsWhenTheJobFails() {
    Recorded engine = new Recorded(new IllegalStateException("the job failed"));
    assertThatThrownBy(
            () -> engine.runLocally(Map.of("source", "photos/"), new Engine.Listener() {}))
        .hasMessage("the job failed");
    assertThat(engine.said).last().isEqualTo("stopped");
  }
}
