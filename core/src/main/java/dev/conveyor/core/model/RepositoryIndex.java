package dev.conveyor.core.model;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a {@link ModelRepository} held when it was read: its models by name, and what in it did not
 * fit the layout and was left out.
 */
public record RepositoryIndex(List<Model> models, List<String> problems) {
  public RepositoryIndex {
    models = List.copyOf(models);
    problems = List.copyOf(problems);
  }

  /** The model named {@code name}, if the repository has it. */
  public Optional<Model> model(String name) {
    return models.stream().filter(m -> m.name().equals(name)).findFirst();
  }

  /**
   * A model: its folder, its settings from its config (by catalogue name, as written), and its
   * versions, oldest first.
   */
  public record Model(
      String name, Path folder, Map<String, String> config, List<Version> versions) {
    public Model {
      config = Map.copyOf(config);
      versions = List.copyOf(versions);
      if (versions.isEmpty()) {
        throw new IllegalArgumentException(name + " has no version");
      }
    }

    /** The newest version: the highest number. */
    public Version latest() {
      return versions.get(versions.size() - 1);
    }

    /** The version numbered {@code number}, if there is one. */
    public Optional<Version> version(long number) {
      return versions.stream().filter(v -> v.number() == number).findFirst();
    }
  }

  /** One version of a model: its number and its model file. */
  public record Version(long number, Path file) {}
}
