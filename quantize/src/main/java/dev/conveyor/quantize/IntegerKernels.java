package dev.conveyor.quantize;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Whether ONNX Runtime's integer kernels on this machine can saturate on full-range INT8 weights.
 * On x86-64 without VNNI, its UINT8 × INT8 kernels add pairs of products into 16 bits ({@code
 * vpmaddubsw}), and 255 × 127 × 2 overflows them; ONNX Runtime's documentation recommends weights
 * of 7 bits there ({@code reduce_range}). With VNNI (AVX-512 VNNI, AVX-VNNI) the products are
 * summed in 32 bits, and ARM's kernels do not saturate either.
 */
public final class IntegerKernels {
  private static final boolean SATURATE = saturate(System.getProperty("os.arch"), cpuFlags());

  private IntegerKernels() {}

  /** Whether this machine's integer kernels can saturate on 8-bit weights. */
  public static boolean saturate() {
    return SATURATE;
  }

  /**
   * Whether a CPU of this architecture with these {@code /proc/cpuinfo} flags saturates: x86-64
   * without a VNNI flag, or whose flags cannot be read (weights of 7 bits cost little, saturation
   * much).
   */
  static boolean saturate(String arch, String flags) {
    String a = arch == null ? "" : arch.toLowerCase(Locale.ROOT);
    if (!a.equals("amd64") && !a.equals("x86_64") && !a.equals("x86") && !a.equals("i386")) {
      return false;
    }
    if (flags == null) {
      return true;
    }
    for (String flag : flags.split("\\s+")) {
      if (flag.equals("avx512_vnni") || flag.equals("avx_vnni")) {
        return false;
      }
    }
    return true;
  }

  /** The flags of the first processor in {@code /proc/cpuinfo}, or null where there is none. */
  private static String cpuFlags() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("flags")) {
          return line.substring(line.indexOf(':') + 1);
        }
      }
      return null;
    } catch (IOException | RuntimeException e) {
      return null; // not Linux: the flags are unknown
    }
  }
}
