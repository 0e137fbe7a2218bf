package dev.conveyor.flink;

import dev.conveyor.core.engine.Engine;
import dev.conveyor.core.engine.JobSettings;
import dev.conveyor.core.engine.ShutdownStop;
import dev.conveyor.core.settings.SettingGroup;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.HeartbeatManagerOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

/** Flink as {@code conveyor flink} runs it: the job on a MiniCluster in this process. */
public final class FlinkEngine implements Engine {

  @Override
  public String name() {
    return "flink";
  }

  @Override
  public SettingGroup settings() {
    return JobSettings.FLINK;
  }

  @Override
  public Report runLocally(Map<String, String> settings, Listener listener) throws Exception {
    FlinkJob job = FlinkJob.of(settings);
    Configuration c = job.configuration();
    // accumulators travel with heartbeats: a progress line once a second
    c.set(HeartbeatManagerOptions.HEARTBEAT_INTERVAL, java.time.Duration.ofSeconds(1));
    StreamExecutionEnvironment env =
        StreamExecutionEnvironment.createLocalEnvironment(
            job.parallelism() > 0 ? job.parallelism() : 2, c);
    // Ctrl-C: the job is stopped as an interrupt stops it (FlinkJob#run) before the JVM exits
    return ShutdownStop.run(
        "conveyor-flink-stop", 90, listener, l -> job.run(env, UnaryOperator.identity(), l));
  }
}
