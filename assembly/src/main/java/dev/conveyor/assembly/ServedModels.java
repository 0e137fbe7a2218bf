package dev.conveyor.assembly;

import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.settings.Settings;
import dev.conveyor.core.worker.Models;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * What a process classifies with, from its settings: the models of the repository {@code models}
 * names ({@link ModelSet}), or else the one model's pipeline. Closing it closes them.
 */
public final class ServedModels implements Models, AutoCloseable {
  private final Models models;
  private final Runnable closing;
  private final ModelSet repository;

  private ServedModels(Models models, Runnable closing, ModelSet repository) {
    this.models = models;
    this.closing = closing;
    this.repository = repository;
  }

  /**
   * Reads the pipeline's settings and the repository's by name, as job arguments give them.
   *
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} naming a wrong setting
   */
  public static Settings read(Map<String, String> settings, String where) {
    return Settings.read(
        settings,
        where,
        PipelineSettings.MODEL_SETTINGS,
        PipelineSettings.FETCH_SETTINGS,
        PipelineSettings.BATCH_SETTINGS,
        PipelineSettings.REPOSITORY_SETTINGS);
  }

  /** Opens the repository the settings name, else their one model with {@link Pipelines#open}. */
  public static ServedModels open(Settings settings) {
    return open(settings, Pipelines::open);
  }

  /**
   * Opens the repository the settings name, else their one model with {@code pipeline}.
   *
   * @throws dev.conveyor.core.ConveyorException {@code INVALID_SETTING} when the model or the
   *     repository cannot be served
   */
  public static ServedModels open(Settings settings, Function<Settings, Pipeline> pipeline) {
    Optional<ModelSet> set = RepositorySettings.open(settings);
    if (set.isPresent()) {
      return new ServedModels(set.get(), set.get()::close, set.get());
    }
    Pipeline one = pipeline.apply(settings);
    return new ServedModels(Models.of(one), one::close, null);
  }

  /** The repository served, if it is one. */
  public Optional<ModelSet> repository() {
    return Optional.ofNullable(repository);
  }

  @Override
  public Lease lease(String name) {
    return models.lease(name);
  }

  @Override
  public String describe() {
    return models.describe();
  }

  @Override
  public void close() {
    closing.run();
  }
}
