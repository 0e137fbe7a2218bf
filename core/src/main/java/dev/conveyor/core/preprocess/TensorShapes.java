package dev.conveyor.core.preprocess;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** A tensor's shape and layout as a content type gives them, and a shape as messages show it. */
public final class TensorShapes {
  private TensorShapes() {}

  static int[] shape(String value) {
    try {
      int[] dims =
          Arrays.stream(
                  value
                      .replace("(", "")
                      .replace(")", "")
                      .replace("[", "")
                      .replace("]", "")
                      .split("[,x ]+"))
              .filter(s -> !s.isBlank())
              .mapToInt(Integer::parseInt)
              .toArray();
      if (dims.length == 0 || Arrays.stream(dims).anyMatch(d -> d < 1)) {
        throw new NumberFormatException(value);
      }
      return dims;
    } catch (NumberFormatException e) {
      throw new ConveyorException(
          ErrorCode.BAD_TENSOR, "the tensor's shape is not a list of positive sizes");
    }
  }

  static Layout layout(String value) {
    try {
      return Layout.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new ConveyorException(
          ErrorCode.BAD_TENSOR, "the tensor's layout is neither nchw nor nhwc");
    }
  }

  /** A shape as messages show it: {@code 1x28x28}. */
  public static String join(int[] shape) {
    return Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining("x"));
  }
}
