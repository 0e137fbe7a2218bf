package dev.conveyor.cli;

import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.settings.SettingGroup;
import java.util.Map;
import picocli.CommandLine.Command;

/** {@code conveyor flink}: the Flink job on an embedded Flink cluster in this process. */
@Command(
    name = "flink",
    header = "Run the Flink job on an embedded Flink cluster: a folder, Kafka or a Redis stream.",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Runs dev.conveyor.flink.ClassifyJob, the job that 'flink run' takes from "
          + "conveyor-flink.jar, on a Flink MiniCluster in this process: each parallel task holds "
          + "one model and classifies its share of the requests in batches. With --sink - it "
          + "prints one JSON result per image; at the end of a bounded source (a folder, or "
          + "--until-end) it prints the job's runtime and images/s. Stop an unbounded job with "
          + "Ctrl-C.",
      "",
      "The first use builds the Flink module: about 170 MB of Flink's libraries from Maven.",
      "",
    })
final class FlinkCommand extends EngineCommand {
  @Override
  String engine() {
    return "flink";
  }

  @Override
  SettingGroup jobSettings() {
    return JobSettings.FLINK;
  }

  @Override
  String parallelism(Map<String, String> given) {
    String p = given.getOrDefault(JobSettings.PARALLELISM.name(), "0");
    return (p.equals("0") ? "2" : p) + " parallel tasks";
  }
}
