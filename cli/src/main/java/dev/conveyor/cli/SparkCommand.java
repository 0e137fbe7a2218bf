package dev.conveyor.cli;

import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.settings.SettingGroup;
import java.util.Map;
import picocli.CommandLine.Command;

/** {@code conveyor spark}: the Structured Streaming query on {@code local[*]} in this process. */
@Command(
    name = "spark",
    header = "Run the Spark Structured Streaming query on local[*]: a folder or Kafka.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Runs dev.conveyor.spark.ClassifyQuery, the query that 'spark-submit' takes from "
          + "conveyor-spark.jar, on Spark's local[*] in this process: each partition of each "
          + "micro-batch is classified in batches by the executor's one model. With --sink - it "
          + "prints one JSON result per image; a folder is read once (or watched, with --watch), "
          + "and a broker source with --until-end is read up to its end, then the query ends with "
          + "its runtime and images/s. The checkpoint location defaults to a folder under "
          + ".conveyor/spark-checkpoints named after the source and sink.",
      "",
      "The first use builds the Spark module (Spark's libraries from Maven).",
      "",
    })
final class SparkCommand extends EngineCommand {
  @Override
  String engine() {
    return "spark";
  }

  @Override
  SettingGroup jobSettings() {
    return JobSettings.SPARK;
  }

  @Override
  String parallelism(Map<String, String> given) {
    String p = given.getOrDefault(JobSettings.PARALLELISM.name(), "0");
    return p.equals("0") ? "local[*]" : "local[" + p + "]";
  }
}
