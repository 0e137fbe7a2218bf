package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code conveyor flink} without the Flink module on the class path, as the default build has it.
 */
@Timeout(30)
class FlinkCommandTest {

  @Test
  void withoutTheFlinkModuleItSaysHowToGetIt() {
    CliRun run = CliRun.of("flink", "--source", "photos/");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .contains("the flink module is not on the class path: run ./conveyor flink");
  }

  @Test
  void helpListsTheJobSettingsAndThePipelines() {
    CliRun run = CliRun.of("flink", "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .contains("--source=URI", "-p, --parallelism=N", "--checkpoint-ms=N", "--batch=N");
  }
}
