package dev.conveyor.cli;

import me.tongfei.progressbar.ProgressBarStyle;

/** How progress bars look: coloured on a terminal, plain ASCII in logs and pipes. */
final class Progress {
  private Progress() {}

  static ProgressBarStyle style() {
    return System.console() != null
        ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK
        : ProgressBarStyle.ASCII;
  }
}
