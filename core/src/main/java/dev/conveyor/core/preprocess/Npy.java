package dev.conveyor.core.preprocess;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The header of a NumPy {@code .npy} file, what {@code numpy.save} writes: the magic {@code
 * \x93NUMPY}, a version, the header's length, then a Python dict literal giving {@code descr} (the
 * dtype), {@code fortran_order} and {@code shape}; the array's bytes follow.
 *
 * @param offset where the array's bytes start
 */
record Npy(DType dtype, int[] shape, int offset) {
  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([^']*)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  static boolean is(byte[] bytes) {
    return bytes.length >= 10 && Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length);
  }

  /**
   * @throws ConveyorException {@code BAD_TENSOR} for a header that cannot be read, a big-endian or
   *     Fortran-ordered array, or a dtype Conveyor does not take
   */
  static Npy read(byte[] bytes) {
    int major = bytes[6] & 0xff;
    int headerLength;
    int start;
    if (major == 1) {
      headerLength = (bytes[8] & 0xff) | (bytes[9] & 0xff) << 8;
      start = 10;
    } else if (major == 2 || major == 3) {
      if (bytes.length < 12) {
        throw bad("its header is cut short");
      }
      headerLength =
          (bytes[8] & 0xff)
              | (bytes[9] & 0xff) << 8
              | (bytes[10] & 0xff) << 16
              | (bytes[11] & 0xff) << 24;
      start = 12;
    } else {
      throw bad("version " + major + " is not one numpy writes");
    }
    if (headerLength < 0 || (long) start + headerLength > bytes.length) {
      throw bad("its header is cut short");
    }
    String header = new String(bytes, start, headerLength, StandardCharsets.ISO_8859_1);
    Matcher descr = DESCR.matcher(header);
    Matcher fortran = FORTRAN.matcher(header);
    Matcher shape = SHAPE.matcher(header);
    if (!descr.find() || !fortran.find() || !shape.find()) {
      throw bad("its header is not numpy's");
    }
    if (fortran.group(1).equals("True")) {
      throw bad("it is in Fortran order; save it with numpy.ascontiguousarray first");
    }
    String type = descr.group(1);
    if (type.isEmpty()) {
      throw bad("its dtype is empty");
    }
    if (type.startsWith(">") && !type.endsWith("1")) {
      throw bad("it is big-endian; save it as little-endian ('<')");
    }
    int[] dims =
        Arrays.stream(shape.group(1).split(","))
            .map(String::trim)
            .filter(s -> !s.isEmpty())
            .mapToInt(Npy::dimension)
            .toArray();
    String element = "<|=>".indexOf(type.charAt(0)) >= 0 ? type.substring(1) : type;
    return new Npy(DType.parse(element), dims, start + headerLength);
  }

  private static int dimension(String s) {
    try {
      return Integer.parseInt(s.endsWith("L") ? s.substring(0, s.length() - 1) : s);
    } catch (NumberFormatException e) {
      throw bad("its shape is not a list of sizes");
    }
  }

  private static ConveyorException bad(String why) {
    return new ConveyorException(ErrorCode.BAD_TENSOR, "the .npy file cannot be read: " + why);
  }
}
