package dev.conveyor.cli;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Progress bars on stderr: coloured on a terminal, plain ASCII in logs and pipes. */
final class Progress {
  private Progress() {}

  /**
   * A bar counting to {@code max} steps, shown in {@code unit}s of {@code unitSize} steps.
   *
   * @param speed whether to show the rate
   */
  static ProgressBar bar(String task, long max, String unit, long unitSize, boolean speed) {
    ProgressBarBuilder builder =
        new ProgressBarBuilder()
            .setTaskName(task)
            .setInitialMax(max)
            .setUnit(unit, unitSize)
            .setConsumer(new ConsoleProgressBarConsumer(System.err))
            .setStyle(
                System.console() != null
                    ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK
                    : ProgressBarStyle.ASCII);
    if (speed) {
      builder.showSpeed();
    }
    return builder.build();
  }
}
