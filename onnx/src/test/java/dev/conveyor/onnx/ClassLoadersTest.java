package dev.conveyor.onnx;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A JVM loads a native library file into one class loader only, and Flink gives each job (and each
 * restart of a job) a class loader of its own: each must still run a model, the first from the
 * shared cache and the others from copies of their own.
 */
@Timeout(120)
class ClassLoadersTest {
  static final String MODEL =
      Path.of("..", "models", "fashion-mnist.onnx").toAbsolutePath().normalize().toString();

  /** Opens the model in the class loader this class was loaded by; answers the model's name. */
  public static final class Probe implements Function<String, String> {
    @Override
    public String apply(String model) {
      try (OnnxClassifier c = OnnxClassifier.open(Path.of(model), OnnxOptions.DEFAULT)) {
        return c.spec().name();
      }
    }
  }

  @Test
  void everyClassLoaderOfOneJvmRunsAModel() throws Exception {
    URL[] classPath =
        Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
            .map(ClassLoadersTest::url)
            .toArray(URL[]::new);
    for (int i = 0; i < 3; i++) {
      try (URLClassLoader job =
          new URLClassLoader(classPath, ClassLoader.getPlatformClassLoader())) {
        @SuppressWarnings("unchecked")
        Function<String, String> probe =
            (Function<String, String>)
                Class.forName(Probe.class.getName(), true, job).getConstructor().newInstance();
        assertThat(probe.apply(MODEL)).as("class loader %d", i).isEqualTo("fashion-mnist");
      }
    }
    assertThat(new Probe().apply(MODEL))
        .as("the test's own class loader")
        .isEqualTo("fashion-mnist");
  }

  private static URL url(String path) {
    try {
      return Path.of(path).toUri().toURL();
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException(e);
    }
  }
}
