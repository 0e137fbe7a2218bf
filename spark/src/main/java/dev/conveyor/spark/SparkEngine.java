package dev.conveyor.spark;

import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.settings.SettingGroup;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** Spark as {@code conveyor spark} runs it: the query on {@code local[*]} in this process. */
public final class SparkEngine implements Engine {

  @Override
  public String name() {
    return "spark";
  }

  @Override
  public SettingGroup settings() {
    return JobSettings.SPARK;
  }

  @Override
  public Report runLocally(Map<String, String> settings, Listener listener) throws Exception {
    SparkJob job = SparkJob.of(settings);
    SparkSession spark =
        SparkSession.builder()
            .master(job.parallelism() > 0 ? "local[" + job.parallelism() + "]" : "local[*]")
            .appName(job.name())
            .config("spark.sql.shuffle.partitions", "4")
            .getOrCreate();
    try {
      return job.run(spark, listener);
    } finally {
      spark.stop();
    }
  }
}
