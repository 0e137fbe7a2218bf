package dev.conveyor.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(10)
class ProgressTest {
  @Test
  void barsShowOnATerminalOrWhenAskedFor() {
    assertThat(Progress.shown(null, true)).isTrue();
    assertThat(Progress.shown(null, false)).isFalse();
    assertThat(Progress.shown("", false)).isFalse();
    assertThat(Progress.shown("always", false)).isTrue();
    assertThat(Progress.shown("ALWAYS", false)).isTrue();
    assertThat(Progress.shown("1", false)).isTrue();
    assertThat(Progress.shown("never", true)).isFalse();
    assertThat(Progress.shown("auto", true)).isTrue();
    assertThat(Progress.shown("auto", false)).isFalse();
  }

  @Test
  void theTestsStderrIsNoTerminal() {
    // surefire hands the forked JVM a pipe
    assertThat(Progress.stderrIsTerminal()).isFalse();
  }
}
