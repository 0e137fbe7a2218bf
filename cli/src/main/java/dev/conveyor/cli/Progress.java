package dev.conveyor.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarConsumer;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress bars on stderr, shown only when stderr is a terminal: a log file or a pipe gets the
 * commands' summary lines, not the bar's redraws. {@code CONVEYOR_PROGRESS=always} shows them
 * anywhere (plain ASCII off a terminal), {@code never} nowhere.
 */
final class Progress {
  /** The environment variable that overrides where bars show: always, never, or auto. */
  static final String VARIABLE = "CONVEYOR_PROGRESS";

  private Progress() {}

  /**
   * A bar counting to {@code max} steps, shown in {@code unit}s of {@code unitSize} steps.
   *
   * @param speed whether to show the rate
   */
  static ProgressBar bar(String task, long max, String unit, long unitSize, boolean speed) {
    boolean terminal = stderrIsTerminal();
    ProgressBarBuilder builder =
        new ProgressBarBuilder()
            .setTaskName(task)
            .setInitialMax(max)
            .setUnit(unit, unitSize)
            .setConsumer(
                shown(System.getenv(VARIABLE), terminal)
                    ? new ConsoleProgressBarConsumer(System.err)
                    : new Hidden())
            .setStyle(terminal ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK : ProgressBarStyle.ASCII);
    if (speed) {
      builder.showSpeed();
    }
    return builder.build();
  }

  /** Whether bars show, from the variable's value (or null) and whether stderr is a terminal. */
  static boolean shown(String variable, boolean terminal) {
    if (variable == null || variable.isBlank()) {
      return terminal;
    }
    return switch (variable.trim().toLowerCase(Locale.ROOT)) {
      case "always", "1", "true", "yes" -> true;
      case "never", "0", "false", "no" -> false;
      default -> terminal;
    };
  }

  /**
   * Whether this process's stderr is a terminal. Java can only tell whether stdin and stdout both
   * are ({@link System#console()}); on Linux the descriptor's link says it of stderr itself.
   */
  static boolean stderrIsTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
    } catch (IOException | UnsupportedOperationException | SecurityException e) {
      return System.console() != null;
    }
  }

  /** Takes the bar's renderings and shows none. */
  private static final class Hidden implements ProgressBarConsumer {
    @Override
    public int getMaxRenderedLength() {
      return 80;
    }

    @Override
    public void accept(String rendered) {}

    @Override
    public void close() {}
  }
}
