package dev.conveyor.cli;

import dev.conveyor.assembly.PipelineSettings;
import dev.conveyor.assembly.Pipelines;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.fetch.FetchAllow;
import dev.conveyor.core.fetch.FetchSettings;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.transport.Broker;
import dev.conveyor.core.transport.Brokers;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/**
 * What commands that classify share: their pipeline settings as options, read into the pipeline,
 * and broker addresses read by their URI scheme; a setting that is wrong is a usage error.
 */
final class CommandSettings {
  /** The pipeline's settings: model and preprocessing, then batching. */
  static final SettingGroup[] PIPELINE = {
    PipelineSettings.MODEL_SETTINGS,
    PipelineSettings.FETCH_SETTINGS,
    PipelineSettings.BATCH_SETTINGS
  };

  /**
   * What workers take: the pipeline's settings, where results also go, where requests come from,
   * and how many workers run.
   */
  static final SettingGroup[] WORKING = {
    PipelineSettings.MODEL_SETTINGS,
    PipelineSettings.FETCH_SETTINGS,
    PipelineSettings.BATCH_SETTINGS,
    PipelineSettings.RESULT_SETTINGS,
    PipelineSettings.TRANSPORT_SETTINGS,
    PipelineSettings.WORKER_SETTINGS,
    PipelineSettings.REPOSITORY_SETTINGS
  };

  private CommandSettings() {}

  /** The pipeline settings given on this command line. */
  static Settings pipeline(CommandSpec spec) {
    return read(spec, PIPELINE);
  }

  /** The settings of these groups given on this command line, read and checked. */
  static Settings read(CommandSpec spec, SettingGroup... groups) {
    return usage(
        spec, () -> Settings.read(SettingOptions.given(spec, groups), "command-line", groups));
  }

  /** Opens the pipeline the settings describe. */
  static Pipeline open(CommandSpec spec, Settings settings) {
    return usage(spec, () -> Pipelines.open(settings));
  }

  /**
   * Opens the pipeline for files the operator named on the command line: those files, and the files
   * under those folders, may be read as well as what --fetch-allow allows.
   */
  static Pipeline openForFiles(CommandSpec spec, Settings settings, List<Path> named) {
    FetchAllow allow = settings.get(FetchSettings.FETCH_ALLOW).withFiles(named);
    return usage(spec, () -> Pipelines.open(settings, allow));
  }

  /**
   * Fails with a usage error when the model file the settings name is not there, for commands that
   * hand the model to others (an engine's tasks) rather than open it here.
   */
  static void checkModel(CommandSpec spec, Settings settings) {
    usage(spec, () -> Pipelines.modelPath(settings));
  }

  /**
   * The broker the transport setting names, with the options that are URI settings (partitions)
   * applied; a usage error for the embedded transport, which has no broker.
   */
  static Broker broker(CommandSpec spec, Settings settings) {
    String uri = settings.get(PipelineSettings.TRANSPORT);
    if (uri.equalsIgnoreCase("embedded")) {
      throw new ParameterException(
          spec.commandLine(),
          "this command needs a broker: --transport redis://…, kafka://… or postgresql://…");
    }
    return broker(spec, uri, PipelineSettings.brokerOverrides(settings));
  }

  /** The broker a URI names, with {@code overrides} (options that are URI settings) applied. */
  static Broker broker(CommandSpec spec, String uri, Map<String, String> overrides) {
    return usage(spec, () -> Brokers.open(uri, overrides));
  }

  /** Work that may find a setting invalid, and may throw {@code E} besides. */
  interface Action<T, E extends Exception> {
    T get() throws E;
  }

  /** Runs {@code action}, turning an invalid setting into a usage error that names it. */
  static <T, E extends Exception> T usage(CommandSpec spec, Action<T, E> action) throws E {
    try {
      return action.get();
    } catch (ConveyorException e) {
      if (e.code() == ErrorCode.INVALID_SETTING) {
        throw new ParameterException(spec.commandLine(), e.getMessage(), e);
      }
      throw e;
    }
  }
}
