package dev.conveyor.cli;

import dev.conveyor.core.model.ModelRepository;
import dev.conveyor.core.settings.Settings;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code --publish REPO/NAME}, for the commands that write a model ({@code train}, {@code
 * quantize}): the model written is also published into a model repository as the next version of
 * NAME, which workers serving it with {@code --models REPO} roll out.
 */
final class PublishOption {
  @Option(
      names = "--publish",
      paramLabel = "REPO/NAME",
      description =
          "Also publish the model written into the model repository REPO (a folder, made when"
              + " missing, or s3://bucket/prefix) as the next version of NAME (REPO/NAME/N/model.onnx):"
              + " workers serving it with --models REPO roll it out.")
  String target;

  /**
   * Publishes {@code model} when asked to, and says where.
   *
   * @param settings the object store's client settings, for a repository kept in one
   */
  void publish(CommandSpec spec, Settings settings, Path model, PrintWriter out) {
    if (target == null) {
      return;
    }
    int slash = target.replaceAll("/+$", "").lastIndexOf('/');
    String repo = slash <= 0 ? "" : target.substring(0, slash);
    String name = slash <= 0 ? "" : target.replaceAll("/+$", "").substring(slash + 1);
    if (repo.isEmpty() || repo.endsWith(":/") || name.isEmpty()) {
      throw new ParameterException(
          spec.commandLine(),
          "--publish takes REPO/NAME: a repository (a folder, or s3://bucket/prefix), then the"
              + " model's name");
    }
    try (ModelRepository repository =
        CommandSettings.usage(spec, () -> ModelRepository.forPublishing(repo, settings))) {
      long version = CommandSettings.usage(spec, () -> repository.publish(name, model));
      out.printf(
          "published %s as %s version %d in %s%n", model, name, version, repository.location());
      out.flush();
    }
  }
}
