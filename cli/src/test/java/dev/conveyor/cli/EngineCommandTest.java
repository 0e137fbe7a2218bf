package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * {@code conveyor flink} and {@code conveyor spark}, one command added once per engine, without the
 * engines' modules on the class path, as the default build has it.
 */
@Timeout(30)
class EngineCommandTest {

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

  @Test
  void eachEngineIsACommandOfItsOwnWithItsOwnHelpListedAfterWorker() {
    CliRun commands = CliRun.of("--help");
    assertThat(commands.out())
        .containsSubsequence(
            "worker ",
            "flink     Run the Flink job on an embedded Flink cluster",
            "spark     Run the Spark Structured Streaming query on local[*]",
            "results ");
    CliRun flink = CliRun.of("flink", "--help");
    assertThat(flink.out())
        .contains("Usage: conveyor flink", "Runs dev.conveyor.flink.ClassifyJob")
        .contains("The first use builds the Flink module")
        .contains("Default: the cluster's.")
        .doesNotContain("--watch", "--max-per-batch");
    CliRun spark = CliRun.of("spark", "--help");
    assertThat(spark.out())
        .contains("Usage: conveyor spark", "Runs dev.conveyor.spark.ClassifyQuery")
        .contains("The first use builds the Spark module")
        .doesNotContain("--checkpoint-ms", "--restore");
  }
}
