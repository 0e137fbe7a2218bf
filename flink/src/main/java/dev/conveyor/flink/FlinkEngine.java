package dev.conveyor.flink;

import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.engine.LocalEngine;
import java.time.Duration;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Flink as {@code conveyor flink} runs it: the job on a MiniCluster in this process. */
public final class FlinkEngine extends LocalEngine {
  /** Parallel tasks of a local run that asks for the cluster's default. */
  private static final int LOCAL_TASKS = 2;

  public FlinkEngine() {
    // a stop drains the job, or cancels it: FlinkJob#run
    super("flink", JobSettings.FLINK, 90);
  }

  @Override
  public String localParallelism(int parallelism) {
    return tasks(parallelism) + " parallel tasks";
  }

  private static int tasks(int parallelism) {
    return parallelism > 0 ? parallelism : LOCAL_TASKS;
  }

  @Override
  protected LocalRun prepare(Map<String, String> settings) {
    FlinkJob job = FlinkJob.of(settings);
    Configuration c = job.configuration();
    // accumulators travel with heartbeats: a progress line once a second
    c.set(HeartbeatManagerOptions.HEARTBEAT_INTERVAL, Duration.ofSeconds(1));
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.createLocalEnvironment(tasks(job.parallelism()), c);
    return listener -> job.run(env, UnaryOperator.identity(), listener);
  }
}
