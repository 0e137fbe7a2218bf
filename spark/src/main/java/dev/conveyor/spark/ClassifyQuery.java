package dev.conveyor.spark;

import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.settings.Arguments;
import org.apache.spark.sql.SparkSession;

/**
 * Conveyor as a Spark Structured Streaming query, the entry point {@code spark-submit} takes:
 *
 * <pre>
 * spark-submit --class dev.conveyor.spark.ClassifyQuery conveyor-spark.jar \
 *     --source 'kafka://broker:9092?topic=images' --sink 'kafka://broker:9092?results=labels' \
 *     --model /models/resnet50.onnx --batch 16 --checkpoints hdfs:///conveyor/checkpoints
 * </pre>
 *
 * Every query and pipeline setting is an argument ({@code --name value}); an unknown or invalid one
 * stops it before it starts, naming it.
 */
public final class ClassifyQuery {
  private ClassifyQuery() {}

  public static void main(String[] args) throws Exception {
    SparkJob job = SparkJob.of(Arguments.fromArgs(args));
    // classify in the session's SQL too, beside the extensions the submission names
    String extensions =
        SqlFunctionQuery.extensions(
            new org.apache.spark.SparkConf().get("spark.sql.extensions", ""));
    SparkSession spark =
        SparkSession.builder()
            .appName(job.name())
            .config("spark.sql.extensions", extensions)
            .getOrCreate();
    Engine.Report r = job.run(spark, Engine.Listener.printing(System.out, System.err));
    System.err.println(r.summary());
    spark.stop();
  }
}
