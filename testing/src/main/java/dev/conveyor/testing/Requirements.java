package dev.conveyor.testing;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/**
 * Tools a test needs from the machine. Where one is missing the test is skipped with the fix in its
 * reason, except under {@code CI=true}, where a missing tool fails the build: CI installs
 * everything (./run-tests), so a skip there would hide a broken install step.
 */
public final class Requirements {
  private Requirements() {}

  /** Goes on only when {@code binary} is installed; {@code install} says how to install it. */
  public static void executable(Path binary, String install) {
    if (Files.isExecutable(binary)) {
      return;
    }
    String why = binary + " is not installed: " + install + " (./run-tests installs it)";
    if ("true".equalsIgnoreCase(System.getenv("CI"))) {
      fail(why);
    }
    Assumptions.assumeTrue(false, why);
  }
}
