package dev.conveyor.onnx;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.preprocess.Layout;
import java.util.Arrays;

/**
 * Reads an image model's input shape: rank 4 ({@code [N,C,H,W]} or {@code [N,H,W,C]}) or rank 3
 * ({@code [N,H,W]}, one channel). Dimensions the model leaves open are -1.
 */
record InputShape(Layout layout, int batch, int channels, int height, int width) {

  static InputShape of(long[] shape) {
    if (shape.length == 3) {
      return new InputShape(Layout.NCHW, dim(shape[0]), 1, dim(shape[1]), dim(shape[2]));
    }
    if (shape.length != 4) {
      throw new ConveyorException(
          ErrorCode.INTERNAL,
          "the model's input has shape %s; Conveyor classifies images, which need [N,C,H,W], [N,H,W,C] or [N,H,W]"
              .formatted(Arrays.toString(shape)));
    }
    boolean channelsFirst = isChannels(shape[1]);
    boolean channelsLast = isChannels(shape[3]);
    if (channelsLast && !channelsFirst) {
      return new InputShape(
          Layout.NHWC, dim(shape[0]), dim(shape[3]), dim(shape[1]), dim(shape[2]));
    }
    Layout layout = channelsFirst ? Layout.NCHW : null;
    return new InputShape(layout, dim(shape[0]), dim(shape[1]), dim(shape[2]), dim(shape[3]));
  }

  private static boolean isChannels(long d) {
    return d == 1 || d == 3;
  }

  private static int dim(long d) {
    return d > 0 ? (int) d : -1;
  }

  /** The tensor shape for {@code n} images of {@code c} x {@code h} x {@code w}. */
  long[] tensorShape(int n, int c, int h, int w, int rank) {
    if (rank == 3) {
      return new long[] {n, h, w};
    }
    return layout == Layout.NHWC ? new long[] {n, h, w, c} : new long[] {n, c, h, w};
  }
}
