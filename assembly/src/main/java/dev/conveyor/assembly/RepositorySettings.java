package dev.conveyor.assembly;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.model.ModelRepository;
import dev.conveyor.core.model.RepositoryIndex;
import dev.conveyor.core.settings.Setting;
import dev.conveyor.core.settings.SettingGroup;
import dev.conveyor.core.settings.Settings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The settings each version of a repository's model is opened with: the process's pipeline
 * settings, the model's {@code config.properties} over them (only what is a model's own), and the
 * version's file as the model.
 */
public final class RepositorySettings {
  private RepositorySettings() {}

  /**
   * What a model's config may set: its preprocessing, scores and limits, and its batch; not the
   * model file, which is the version's.
   */
  public static final Set<String> PER_MODEL =
      Stream.of(PipelineSettings.MODEL_SETTINGS, PipelineSettings.BATCH_SETTINGS)
          .flatMap(g -> g.settings().stream())
          .map(Setting::name)
          .filter(n -> !n.equals(PipelineSettings.MODEL.name()))
          .collect(Collectors.toUnmodifiableSet());

  /**
   * The repository the settings name ({@code models}), if they name one: served with the pipeline
   * settings given laid under each model's config, its default model opened at once (so that a
   * model that cannot be served is said at start), within {@code models-memory}, and read again
   * every {@code models-poll}.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when {@code model} is given too, the
   *     repository is not a folder or an object store's, or the default model cannot be served;
   *     {@code UNAVAILABLE} when its object store cannot be read
   */
  public static Optional<ModelSet> open(Settings settings) {
    String where = settings.get(PipelineSettings.MODELS);
    if (where == null) {
      return Optional.empty();
    }
    if (settings.has(PipelineSettings.MODEL)) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "give --model FILE for one model, or --models REPO for a repository of them, not both");
    }
    String defaultModel = settings.get(PipelineSettings.DEFAULT_MODEL);
    ModelRepository repository = ModelRepository.open(where, settings);
    ModelSet set;
    try {
      set = new ModelSet(repository, defaultModel, base(settings));
    } catch (RuntimeException e) {
      repository.close();
      throw e;
    }
    if (defaultModel != null) {
      try {
        set.lease(defaultModel).close();
      } catch (ConveyorException e) {
        set.close();
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            e.code() == ErrorCode.UNKNOWN_MODEL
                ? "--default-model "
                    + defaultModel
                    + " is not in the repository "
                    + repository.location()
                : e.getMessage(),
            e);
      }
    }
    set.budget(settings.get(PipelineSettings.MODELS_MEMORY) * 1024L * 1024L);
    return Optional.of(set.watch(settings.get(PipelineSettings.MODELS_POLL)));
  }

  /** The pipeline settings given among {@code settings}, by name: what every model starts from. */
  static Map<String, String> base(Settings settings) {
    Map<String, String> base = new LinkedHashMap<>();
    for (SettingGroup g :
        List.of(
            PipelineSettings.MODEL_SETTINGS,
            PipelineSettings.FETCH_SETTINGS,
            PipelineSettings.BATCH_SETTINGS)) {
      for (Setting<?> s : g.settings()) {
        String given = settings.given().get(s.name());
        if (given != null) {
          base.put(s.name(), given);
        }
      }
    }
    return base;
  }

  /**
   * The settings of {@code version}: {@code base}, the model's config over them (a file it names,
   * such as its labels, relative to the model's folder), and the version's file as the model.
   *
   * @throws ConveyorException {@code INVALID_SETTING} for a config setting that is not the model's
   *     own, or a value that is not valid
   */
  static Settings of(
      Map<String, String> base, RepositoryIndex.Model model, RepositoryIndex.Version version) {
    Map<String, String> merged = new LinkedHashMap<>(base);
    for (Map.Entry<String, String> e : model.config().entrySet()) {
      if (!PER_MODEL.contains(e.getKey())) {
        throw new ConveyorException(
            ErrorCode.INVALID_SETTING,
            "%s/%s sets '%s', which a model may not set; it may set %s"
                .formatted(
                    model.name(),
                    ModelRepository.CONFIG_FILE,
                    e.getKey(),
                    String.join(", ", new TreeSet<>(PER_MODEL))));
      }
      String value = e.getValue();
      if (e.getKey().equals(PipelineSettings.LABELS.name()) && !Path.of(value).isAbsolute()) {
        value = model.folder().resolve(value).toString();
      }
      merged.put(e.getKey(), value);
    }
    merged.put(PipelineSettings.MODEL.name(), version.file().toString());
    return Pipelines.read(merged, model.name() + "/" + ModelRepository.CONFIG_FILE);
  }
}
