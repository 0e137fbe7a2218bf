package dev.conveyor.core.engine;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.transport.Brokers;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A job's settings as every engine reads them: its own ({@link JobSettings}), checked with the
 * pipeline's, a source always, and the pipeline's settings apart, for the classify stage to open in
 * each task.
 */
public final class JobPlan {
  /** The sink that sends results back to the process that runs the job. */
  public static final String STDOUT = "-";

  private final Settings settings;
  private final String source;
  private final String sink;
  private final Map<String, String> pipeline;

  private JobPlan(Settings settings, SettingGroup own) {
    this.settings = settings;
    this.source = settings.get(JobSettings.SOURCE);
    if (source == null) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "give --source: a folder, kafka://host:port?topic=… or redis://host:port?mode=stream");
    }
    this.sink = settings.get(JobSettings.SINK);
    Map<String, String> p = new LinkedHashMap<>(settings.given());
    own.settings().forEach(s -> p.remove(s.name()));
    this.pipeline = p;
  }

  /**
   * Reads the settings by name, as job arguments or options give them.
   *
   * @param where what is read, for error messages: {@code job}, {@code query}
   * @param own the engine's own settings ({@link JobSettings#FLINK}, {@link JobSettings#SPARK})
   * @param pipeline the pipeline's settings that the classify stage reads
   * @throws ConveyorException {@code INVALID_SETTING} naming a wrong or missing setting
   */
  public static JobPlan read(
      Map<String, String> given, String where, SettingGroup own, SettingGroup... pipeline) {
    SettingGroup[] groups = new SettingGroup[pipeline.length + 1];
    groups[0] = own;
    System.arraycopy(pipeline, 0, groups, 1, pipeline.length);
    return new JobPlan(Settings.read(given, where, groups), own);
  }

  /** A setting's value, or its default. */
  public <T> T get(Setting<T> setting) {
    return settings.get(setting);
  }

  /** Where requests come from: a folder or a broker URI. */
  public String source() {
    return source;
  }

  /** Where results go: {@code -}, a folder or a broker URI. */
  public String sink() {
    return sink;
  }

  /** Whether results come back to the process that runs the job, as JSON lines. */
  public boolean toClient() {
    return sink.equals(STDOUT);
  }

  /** The pipeline's settings as given: everything but the engine's own. */
  public Map<String, String> pipeline() {
    return new LinkedHashMap<>(pipeline);
  }

  /** The job's name on the cluster. */
  public String name() {
    return "conveyor: classify " + source;
  }

  /** Parallel tasks the settings ask for; 0 for the cluster's default. */
  public int parallelism() {
    return settings.get(JobSettings.PARALLELISM);
  }

  /**
   * Checks a sink where the job is made, before it runs: a broker URI must read as its broker's
   * (found by scheme), and a folder must be named.
   *
   * @throws ConveyorException {@code INVALID_SETTING} naming what is wrong
   */
  public static void checkSink(String sink) {
    if (sink.equals(STDOUT)) {
      return;
    }
    if (!isFolder(sink)) {
      Brokers.open(sink).describe();
    } else if (sink.isBlank()) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "give --sink: -, a folder, kafka://… or redis://…");
    }
  }

  /**
   * Whether the job classifies through the SQL function {@code classify} ({@code --api sql}) rather
   * than its own operator.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when it does and the source is not a folder
   */
  public boolean sqlFunction() {
    if (!get(JobSettings.API).equals("sql")) {
      return false;
    }
    if (!isFolder(source())) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "--api sql runs the SQL function classify over a folder's files: give a folder as"
              + " --source, or --api operator for a broker source");
    }
    return true;
  }

  /** Whether a source or sink names a URI ({@code scheme://…}) rather than a folder. */
  public static boolean isUri(String location) {
    return location.matches("[a-zA-Z][a-zA-Z0-9+.-]*://.*");
  }

  /** Whether a source or sink names a folder: a path, or a {@code file://} URI. */
  public static boolean isFolder(String location) {
    return !isUri(location) || location.startsWith("file://");
  }

  /** The folder a source or sink names, {@code file://} or not. */
  public static Path folder(String location) {
    return Path.of(location.startsWith("file://") ? location.substring(7) : location);
  }
}
