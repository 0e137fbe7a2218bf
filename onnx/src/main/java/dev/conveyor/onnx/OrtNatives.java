package dev.conveyor.onnx;

import dev.conveyor.core.NativeLibraries;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Loads ONNX Runtime's native libraries from the shared cache of {@link NativeLibraries}, so that
 * it does not unpack them into a new temporary folder in each JVM. ONNX Runtime reads the folder to
 * load from in the system property {@code onnxruntime.native.path} as its classes initialize; the
 * property is set for that moment only, under the JVM-wide lock, so that another class loader of
 * the same JVM (a Flink job's) is not pointed at files this one loaded, and falls back to ONNX
 * Runtime's own loader. An operator's own {@code -Donnxruntime.native.path} is left alone.
 */
public final class OrtNatives {
  static final String PATH = "onnxruntime.native.path";

  private OrtNatives() {}

  /** Loads ONNX Runtime's libraries into this class loader, if not yet loaded. */
  public static void prepare() {
    synchronized (NativeLibraries.jvmLock()) {
      if (System.getProperty(PATH) != null) {
        return;
      }
      List<String> files =
          List.of(System.mapLibraryName("onnxruntime"), System.mapLibraryName("onnxruntime4j_jni"));
      Optional<java.nio.file.Path> dir =
          NativeLibraries.unpack("onnxruntime", "ai/onnxruntime/native/" + platform(), files);
      if (dir.isEmpty()) {
        return;
      }
      System.setProperty(PATH, dir.get().toString());
      try {
        // its static initializer loads the libraries, once per class loader
        Class.forName("ai.onnxruntime.OrtEnvironment", true, OrtNatives.class.getClassLoader());
      } catch (ClassNotFoundException e) {
        throw new IllegalStateException("ONNX Runtime is not on the class path", e);
      } finally {
        System.clearProperty(PATH);
      }
    }
  }

  /** This platform as the jar's folders name it: {@code linux-x64}, {@code osx-aarch64}, ... */
  static String platform() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String system = os.contains("linux") ? "linux" : os.contains("mac") ? "osx" : "win";
    String cpu = arch.equals("amd64") || arch.equals("x86_64") ? "x64" : arch;
    return system + "-" + cpu;
  }
}
