package dev.conveyor.core.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Java processes for tests that kill workers: started on the test class path. */
public final class TestProcesses {
  private TestProcesses() {}

  /**
   * Starts {@code main} in a JVM of its own and waits until it prints a line {@code ready}. Its
   * output keeps being read afterwards, so that it never blocks on a full pipe.
   */
  public static Process startJava(Class<?> main, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
    command.addAll(List.of(args));
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
}
