package dev.conveyor.spark;

import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.engine.ShutdownStop;
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
    // Ctrl-C: the query is stopped as an interrupt stops it (SparkJob#run: the last batch's
    // entries acknowledged) before the JVM exits
    try {
      return ShutdownStop.run("conveyor-spark-stop", 60, listener, l -> job.run(spark, l));
    } finally {
      spark.stop();
    }
  }
}
