package dev.conveyor.cli;

import dev.conveyor.core.model.ModelRepository;
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
          "Also publish the model written into the model repository REPO as the next version of"
              + " NAME (REPO/NAME/N/model.onnx; the repository made when missing): workers serving"
              + " it with --models REPO roll it out.")
  String target;

  /** Publishes {@code model} when asked to, and says where. */
  void publish(CommandSpec spec, Path model, PrintWriter out) {
    if (target == null) {
      return;
    }
    Path where = Path.of(target);
    if (where.getFileName() == null || where.getParent() == null) {
      throw new ParameterException(
          spec.commandLine(),
          "--publish takes REPO/NAME: a repository folder, then the model's name");
    }
    String name = where.getFileName().toString();
    ModelRepository repository =
        CommandSettings.usage(spec, () -> ModelRepository.create(where.getParent()));
    long version = CommandSettings.usage(spec, () -> repository.publish(name, model));
    out.printf("published %s as %s version %d in %s%n", model, name, version, repository.root());
    out.flush();
  }
}
