package dev.conveyor.flink;

import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.settings.Arguments;
import java.util.function.UnaryOperator;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/**
 * Conveyor as a Flink job, the entry point {@code flink run} takes: requests from a folder, Kafka
 * or a Redis stream, classified by the pipeline in each parallel task, results to the client, a
 * folder, Kafka or Redis.
 *
 * <pre>
 * flink run -p 2 -c dev.conveyor.flink.ClassifyJob conveyor-flink.jar \
 *     --source /data/images --sink - --model resnet50.onnx --preset tf-resnet-v1 --batch 16
 * </pre>
 *
 * Every job and pipeline setting is a job argument ({@code --name value}); an unknown or invalid
 * one stops the job before it is submitted, naming it. At the end of a bounded source it prints the
 * job's runtime and images/s, as seed 001's job does. Detached ({@code flink run -d}), it submits
 * the job and returns with its id; results then go to the sink only.
 */
public final class ClassifyJob {
  private ClassifyJob() {}

  public static void main(String[] args) throws Exception {
    FlinkJob job = FlinkJob.of(Arguments.fromArgs(args));
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.getExecutionEnvironment(job.configuration());
    if (!env.getConfiguration().getOptional(DeploymentOptions.ATTACHED).orElse(true)) {
      // flink run -d: submitted, and left to the cluster
      JobClient submitted = job.submit(env);
      System.err.println("submitted " + job.name() + " as job " + submitted.getJobID());
      return;
    }
    Engine.Report r =
        job.run(env, UnaryOperator.identity(), Engine.Listener.printing(System.out, System.err));
    System.err.println(r.summary());
  }
}
