package dev.conveyor.onnx;

import dev.conveyor.core.NativeLibraries;
import java.util.List;
import java.util.Locale;

/**
 * Points ONNX Runtime at its native libraries in the shared cache of {@link NativeLibraries}, so
 * that it does not unpack them into a new temporary folder in each JVM. Called before any ONNX
 * Runtime class is touched; an operator's own {@code -Donnxruntime.native.path} is left alone, and
 * on a platform the jar has no libraries for ONNX Runtime's own loader decides.
 */
public final class OrtNatives {
  static final String PATH = "onnxruntime.native.path";

  private OrtNatives() {}

  public static synchronized void prepare() {
    if (System.getProperty(PATH) != null) {
      return;
    }
    List<String> files =
        List.of(System.mapLibraryName("onnxruntime"), System.mapLibraryName("onnxruntime4j_jni"));
    NativeLibraries.unpack("onnxruntime", "ai/onnxruntime/native/" + platform(), files)
        .ifPresent(dir -> System.setProperty(PATH, dir.toString()));
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
