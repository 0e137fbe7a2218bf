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
  void sparkWithoutItsModuleSaysHowToGetIt() {
    CliRun run = CliRun.of("spark", "--source", "photos/");
    assertThat(run.exitCode()).isEqualTo(2);
    assertThat(run.err())
        .contains("the spark module is not on the class path: run ./conveyor spark");
    CliRun help = CliRun.of("spark", "--help");
    assertThat(help.out()).contains("--max-per-batch=N", "--watch", "--trigger-ms=N", "--batch=N");
    assertThat(help.out()).contains("-p, --parallelism=N").contains("Default: local[*]");
  }

  @Test
  void helpListsTheJobSettingsAndThePipelines() {
    CliRun run = CliRun.of("flink", "--help");
    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .contains("--source=URI", "-p, --parallelism=N", "--checkpoint-ms=N", "--batch=N");
  }
}
