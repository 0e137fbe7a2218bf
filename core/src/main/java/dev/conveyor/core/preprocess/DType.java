package dev.conveyor.core.preprocess;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.util.Locale;

/** The element types a tensor request may have, and how each is read. */
public enum DType {
  FLOAT32(4),
  FLOAT16(2),
  UINT8(1);

  final int bytes;

  DType(int bytes) {
    this.bytes = bytes;
  }

  /** Bytes per element. */
  public int bytes() {
    return bytes;
  }

  static DType parse(String name) {
    return switch (name.toLowerCase(Locale.ROOT)) {
      case "float32", "fp32", "f4", "<f4" -> FLOAT32;
      case "float16", "fp16", "f2", "<f2" -> FLOAT16;
      case "uint8", "u1", "|u1" -> UINT8;
      default ->
          throw new ConveyorException(
              ErrorCode.BAD_TENSOR,
              "the tensor's dtype is not taken: send float32, float16 or uint8");
    };
  }

  /** An IEEE 754 half-precision value as a float. */
  static float halfToFloat(short half) {
    int h = half & 0xffff;
    int sign = (h & 0x8000) << 16;
    int exponent = (h >>> 10) & 0x1f;
    int mantissa = h & 0x3ff;
    if (exponent == 0x1f) {
      return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
    }
    if (exponent == 0) {
      if (mantissa == 0) {
        return Float.intBitsToFloat(sign);
      }
      float value = mantissa / 1024f / 16384f; // subnormal: mantissa × 2^-24
      return sign != 0 ? -value : value;
    }
    return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
  }
}
