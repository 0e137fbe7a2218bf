package dev.conveyor.bench;

import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * A progress bar on stderr for one timed measurement, in tenths of a second, so that a long run
 * shows where it is; coloured on a terminal, plain ASCII in logs and pipes.
 */
final class Phase {
  private final ProgressBar bar;
  private final long start = System.nanoTime();

  Phase(String name, double seconds) {
    bar =
        new ProgressBarBuilder()
            .setTaskName(name)
            .setInitialMax(Math.round(seconds * 10))
            .setUnit("s", 10)
            .setConsumer(new ConsoleProgressBarConsumer(System.err))
            .setStyle(
                System.console() != null
                    ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK
                    : ProgressBarStyle.ASCII)
            .build();
  }

  /** Says on stderr what is happening when there is nothing to count. */
  static void say(String what) {
    System.err.println(what + " …");
  }

  void tick() {
    bar.stepTo(Math.min(bar.getMax(), (System.nanoTime() - start) / 100_000_000L));
  }

  void done() {
    bar.stepTo(bar.getMax());
    bar.close();
  }
}
