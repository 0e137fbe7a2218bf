package dev.conveyor.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Processes that tests start and stop: JVMs on the test class path, programs with their output in a
 * log file, and their teardown (gently, then forcibly, with the processes they started).
 */
public final class TestProcesses {
  private TestProcesses() {}

  /**
   * Starts {@code main} in a JVM of its own and waits until it prints a line {@code ready}. Its
   * output keeps being read afterwards, so that it never blocks on a full pipe.
   */
  public static Process startJava(Class<?> main, String... args)
      throws IOException, InterruptedException {
    List<String> command = javaCommand(List.of(), main.getName(), List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    CountDownLatch ready = new CountDownLatch(1);
    Thread drain =
        new Thread(
            () -> {
              try (BufferedReader out =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                  if (line.equals("ready")) {
                    ready.countDown();
                  }
                }
              } catch (IOException e) {
                throw new UncheckedIOException(e);
              }
            },
            "test-process-output");
    drain.setDaemon(true);
    drain.start();
    if (!ready.await(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(main.getSimpleName() + " did not report ready within 60 s");
    }
    return p;
  }

  /**
   * The command that runs {@code main} with {@code jvmArgs} in a JVM of its own, on the test class
   * path.
   */
  public static List<String> javaCommand(List<String> jvmArgs, String main, List<String> args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmArgs);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), main));
    command.addAll(args);
    return command;
  }

  /** Starts {@code command} with its output and errors appended to {@code log}. */
  public static Process start(List<String> command, Path log) throws IOException {
    return new ProcessBuilder(command)
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
        .start();
  }

  /** Kills {@code p} with SIGKILL (no shutdown of its own) and waits until it is gone. */
  public static void kill(Process p) throws InterruptedException {
    p.destroyForcibly().waitFor();
  }

  /**
   * Stops {@code p} as an operator does (SIGTERM), and kills it when it has not ended within {@code
   * grace}; then kills whatever it started and left behind.
   */
  public static void stop(Process p, Duration grace) throws InterruptedException {
    stopAll(List.of(p), grace);
  }

  /**
   * Stops every one of {@code processes} (SIGTERM to all first, so that they shut down together),
   * kills those still running after {@code grace}, then whatever they started and left behind.
   */
  public static void stopAll(List<Process> processes, Duration grace) throws InterruptedException {
    List<ProcessHandle> children = new ArrayList<>();
    for (Process p : processes) {
      children.addAll(p.descendants().toList());
      p.destroy();
    }
    awaitOrKill(processes, grace);
    for (ProcessHandle child : children) {
      child.destroyForcibly();
    }
  }

  /**
   * Sends {@code signal} ({@code STOP}, {@code CONT}, …) to the process; returns once it is sent.
   */
  public static void signal(Process p, String signal) throws IOException, InterruptedException {
    new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start().waitFor();
  }

  /**
   * Stops {@code p} with {@code signal} ({@code INT}, {@code TERM}, …) sent by {@code kill}, and
   * kills it when it has not ended within {@code grace}.
   */
  public static void stop(Process p, String signal, Duration grace) throws InterruptedException {
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).start();
      kill.waitFor();
    } catch (IOException e) {
      p.destroy();
    }
    awaitOrKill(List.of(p), grace);
  }

  private static void awaitOrKill(List<Process> processes, Duration grace)
      throws InterruptedException {
    long deadline = System.nanoTime() + grace.toNanos();
    for (Process p : processes) {
      long left = Math.max(0, deadline - System.nanoTime());
      if (!p.waitFor(left, TimeUnit.NANOSECONDS)) {
        kill(p);
      }
    }
  }
}
