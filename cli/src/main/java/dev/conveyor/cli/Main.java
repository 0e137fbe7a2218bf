package dev.conveyor.cli;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Spec;

/** The {@code conveyor} command. */
@Command(
    name = "conveyor",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Classifies streams of images: decode, preprocess, batch, run an ONNX model, deliver results.",
      ""
    },
    subcommands = {
      ServeCommand.class,
      ClassifyCommand.class,
      BenchCommand.class,
      EvalCommand.class,
      QuantizeCommand.class,
      ProduceCommand.class,
      UploadCommand.class,
      WorkerCommand.class,
      ResultsCommand.class,
      TrainCommand.class,
      DatasetCommand.class,
      SettingsCommand.class,
      CommandLine.HelpCommand.class
    },
    footer = {"", "Run 'conveyor COMMAND --help' for a command's options."})
public final class Main implements Runnable {
  @Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  public static void main(String[] args) {
    System.exit(
        execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /** Every command, with the options each takes from the settings catalogue. */
  static CommandLine commandLine() {
    CommandLine cmd = new CommandLine(new Main());
    EngineCommand.addTo(cmd, "worker", EngineCommand.FLINK, EngineCommand.SPARK);
    for (CommandLine sub : cmd.getSubcommands().values()) {
      if (sub.getCommand() instanceof SettingOptions.Taking taking) {
        SettingOptions.add(sub.getCommandSpec(), taking);
      }
    }
    return cmd;
  }

  /** Runs the command line with the given output streams; returns the exit code. */
  public static int execute(String[] args, PrintWriter out, PrintWriter err) {
    CommandLine cmd = commandLine();
    cmd.setCaseInsensitiveEnumValuesAllowed(true);
    // help fills a wide terminal, and wraps its paragraphs at 80 columns elsewhere
    cmd.setUsageHelpAutoWidth(true);
    cmd.setOut(out);
    cmd.setErr(err);
    cmd.setExecutionStrategy(
        parsed -> {
          CommandLineSecrets.warnAboutUris(parsed);
          return new CommandLine.RunLast().execute(parsed);
        });
    cmd.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (e instanceof ConveyorException ce) {
            commandLine.getErr().println("conveyor: " + ce.getMessage());
            return ce.code() == ErrorCode.INVALID_SETTING ? 2 : 1;
          }
          throw e;
        });
    return cmd.execute(args);
  }

  /** The version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"conveyor " + (v != null ? v : "(development build)")};
    }
  }
}
