package dev.conveyor.core.preprocess;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.decode.ImageFormat;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Requests that carry a tensor instead of an encoded image: they skip decoding and preprocessing
 * and go straight into the batch buffer. A tensor is little-endian {@code float32}, {@code float16}
 * or {@code uint8}, of one image of the model's input ({@code C×H×W} or {@code H×W×C}, with or
 * without a leading batch dimension of 1). Its message says so with a content type such as {@code
 * application/x-tensor; dtype=float32; shape=1,224,224,3} (and optionally {@code layout=nhwc}), or
 * says nothing: then bytes that are not an image and whose length is exactly the model's input in
 * one of the dtypes are taken as a tensor in the {@code assumed} layout. A NumPy {@code .npy} file
 * (what {@code numpy.save} writes) says its dtype and shape itself, on any transport.
 *
 * <p>Floating-point tensors are the model's input as it is, already preprocessed (only transposed
 * when their layout is not the model's); {@code uint8} tensors are RGB pixels of the model's input
 * size, given the model's channel order, scale, mean and std here. NaN or infinite values are
 * refused.
 */
public final class TensorReader {
  /** The most dimensions a tensor's shape may have: an image's three, and leading ones. */
  public static final int MAX_RANK = 8;

  /** The content type that declares a tensor; its parameters say dtype, shape and layout. */
  public static final String CONTENT_TYPE = "application/x-tensor";

  /** A checked tensor, ready to be written into a batch slot. */
  public final class Tensor {
    private final byte[] bytes;
    private final int offset;
    private final DType dtype;
    private final Layout layout;

    private Tensor(byte[] bytes, int offset, DType dtype, Layout layout) {
      this.bytes = bytes;
      this.offset = offset;
      this.dtype = dtype;
      this.layout = layout;
    }

    /**
     * Writes it into slot {@code slot} of a direct, native-order batch buffer, as the model's
     * input.
     */
    public void write(ByteBuffer batch, int slot) {
      int size = spec.tensorSize();
      FloatBuffer out =
          batch
              .slice(slot * size * Float.BYTES, size * Float.BYTES)
              .order(ByteOrder.nativeOrder())
              .asFloatBuffer();
      ByteBuffer in =
          ByteBuffer.wrap(bytes, offset, bytes.length - offset)
              .slice()
              .order(ByteOrder.LITTLE_ENDIAN);
      if (dtype == DType.FLOAT32 && layout == spec.layout()) {
        out.put(in.asFloatBuffer()); // one copy, from the message into the batch
        return;
      }
      int c = spec.channels();
      int hw = spec.outputWidth() * spec.outputHeight();
      boolean toChw = spec.layout() == Layout.NCHW;
      boolean fromChw = layout == Layout.NCHW;
      for (int p = 0; p < hw; p++) {
        for (int ch = 0; ch < c; ch++) {
          int from = fromChw ? ch * hw + p : p * c + ch;
          float v =
              switch (dtype) {
                case FLOAT32 -> in.getFloat(from * 4);
                case FLOAT16 -> DType.halfToFloat(in.getShort(from * 2));
                case UINT8 -> pixel(in, p, ch, c, hw, fromChw);
              };
          out.put(toChw ? ch * hw + p : p * c + ch, v);
        }
      }
    }

    /** Output channel {@code ch} of pixel {@code p} from RGB bytes, normalized for the model. */
    private float pixel(ByteBuffer in, int p, int ch, int c, int hw, boolean fromChw) {
      int source = sourceChannel[ch];
      int at = fromChw ? source * hw + p : p * c + source;
      return (float) ((in.get(at) & 0xff) * alpha[ch] + beta[ch]);
    }
  }

  private final Preprocessing spec;
  private final Layout assumed;
  private final double[] alpha;
  private final double[] beta;
  private final int[] sourceChannel;

  /**
   * @param spec the model's input: its size, layout, channel order and normalization
   * @param assumed the layout of tensors whose message does not give a shape or layout; {@code
   *     null}: the model's
   */
  public TensorReader(Preprocessing spec, Layout assumed) {
    this.spec = spec;
    this.assumed = assumed != null ? assumed : spec.layout();
    this.alpha = spec.gains();
    this.beta = spec.offsets();
    // uint8 tensors are RGB: map each of the model's channels to its source channel
    this.sourceChannel =
        switch (spec.color()) {
          case RGB -> new int[] {0, 1, 2};
          case BGR -> new int[] {2, 1, 0};
          case GRAY -> new int[] {0};
        };
  }

  /** Whether a content type declares a tensor. */
  public static boolean declared(String contentType) {
    return contentType != null
        && contentType.trim().toLowerCase(Locale.ROOT).startsWith(CONTENT_TYPE);
  }

  /** The content type of a tensor of this dtype and shape. */
  public static String contentType(DType dtype, int... shape) {
    return CONTENT_TYPE
        + "; dtype="
        + dtype.name().toLowerCase(Locale.ROOT)
        + "; shape="
        + Arrays.stream(shape).mapToObj(Integer::toString).collect(Collectors.joining(","));
  }

  /**
   * The request's tensor, checked, or {@code null} when the request is an encoded image: its
   * content type does not declare a tensor, and its bytes are an image or do not have a tensor's
   * length.
   *
   * @throws ConveyorException {@code BAD_TENSOR} when a tensor does not fit the model's input or
   *     holds NaN or infinite values
   */
  public Tensor read(byte[] bytes, String contentType) {
    if (bytes != null && Npy.is(bytes)) {
      Npy npy = Npy.read(bytes);
      return sized(bytes, npy.offset(), npy.dtype(), npy.shape(), null);
    }
    if (declared(contentType)) {
      return declaredTensor(bytes, contentType);
    }
    if (bytes == null || ImageFormat.looksLikeImage(bytes)) {
      return null;
    }
    DType dtype = byLength(bytes.length);
    return dtype == null ? null : checked(bytes, 0, dtype, assumed);
  }

  /** The dtype in which {@code length} bytes are exactly the model's input, or null. */
  private DType byLength(long length) {
    for (DType d : DType.values()) {
      if (length == (long) spec.tensorSize() * d.bytes) {
        return d;
      }
    }
    return null;
  }

  private Tensor declaredTensor(byte[] bytes, String contentType) {
    DType dtype = null;
    int[] shape = null;
    Layout layout = null;
    for (String part : contentType.split(";")) {
      int eq = part.indexOf('=');
      if (eq < 0) {
        continue;
      }
      String key = part.substring(0, eq).trim().toLowerCase(Locale.ROOT);
      String value = part.substring(eq + 1).trim().replace("\"", "");
      switch (key) {
        case "dtype" -> dtype = DType.parse(value);
        case "shape" -> shape = TensorShapes.shape(value);
        case "layout" -> layout = TensorShapes.layout(value);
        default -> {
          // other parameters are the sender's own
        }
      }
    }
    int length = bytes == null ? 0 : bytes.length;
    if (dtype == null) {
      dtype = byLength(length);
      if (dtype == null) {
        throw new ConveyorException(
            ErrorCode.BAD_TENSOR,
            "the tensor has %d bytes, which is not the model's input %s as float32, float16 or uint8: %d, %d or %d bytes"
                .formatted(
                    length,
                    describeInput(),
                    spec.tensorSize() * 4L,
                    spec.tensorSize() * 2L,
                    (long) spec.tensorSize()));
      }
    }
    return sized(bytes, 0, dtype, shape, layout);
  }

  /** A tensor of {@code dtype} from {@code offset}, checked against its shape and the model. */
  private Tensor sized(byte[] bytes, int offset, DType dtype, int[] shape, Layout layout) {
    if (shape != null) {
      layout = fit(shape, layout);
    }
    int length = bytes == null ? 0 : bytes.length - offset;
    long want = (long) spec.tensorSize() * dtype.bytes;
    if (length != want) {
      throw new ConveyorException(
          ErrorCode.BAD_TENSOR,
          "the tensor has %d bytes; %s %s needs %d"
              .formatted(
                  length,
                  dtype.name().toLowerCase(Locale.ROOT),
                  shape == null ? describeInput() : TensorShapes.join(shape),
                  want));
    }
    return checked(bytes, offset, dtype, layout != null ? layout : assumed);
  }

  /** The layout a shape gives the model's input in, or BAD_TENSOR when it fits neither. */
  private Layout fit(int[] shape, Layout asked) {
    if (shape.length > MAX_RANK) {
      throw new ConveyorException(
          ErrorCode.BAD_TENSOR,
          "a tensor has at most %d dimensions; this one has %d".formatted(MAX_RANK, shape.length));
    }
    int[] dims = shape;
    while (dims.length > 3 && dims[0] == 1) {
      dims = Arrays.copyOfRange(dims, 1, dims.length);
    }
    int c = spec.channels();
    int h = spec.outputHeight();
    int w = spec.outputWidth();
    boolean chw =
        Arrays.equals(dims, new int[] {c, h, w})
            || (c == 1 && Arrays.equals(dims, new int[] {h, w}));
    boolean hwc =
        Arrays.equals(dims, new int[] {h, w, c})
            || (c == 1 && Arrays.equals(dims, new int[] {h, w}));
    if (asked != null && ((asked == Layout.NCHW && chw) || (asked == Layout.NHWC && hwc))) {
      return asked;
    }
    if (chw && hwc) {
      return asked != null ? asked : spec.layout();
    }
    if (chw && asked == null) {
      return Layout.NCHW;
    }
    if (hwc && asked == null) {
      return Layout.NHWC;
    }
    throw new ConveyorException(
        ErrorCode.BAD_TENSOR,
        "a tensor of shape %s%s does not fit the model's input %s"
            .formatted(
                TensorShapes.join(shape),
                asked == null ? "" : " (" + asked.name().toLowerCase(Locale.ROOT) + ")",
                describeInput()));
  }

  private Tensor checked(byte[] bytes, int offset, DType dtype, Layout layout) {
    if (dtype != DType.UINT8) {
      ByteBuffer in =
          ByteBuffer.wrap(bytes, offset, bytes.length - offset)
              .slice()
              .order(ByteOrder.LITTLE_ENDIAN);
      int n = spec.tensorSize();
      for (int i = 0; i < n; i++) {
        float v =
            dtype == DType.FLOAT32 ? in.getFloat(i * 4) : DType.halfToFloat(in.getShort(i * 2));
        if (!Float.isFinite(v)) {
          throw new ConveyorException(
              ErrorCode.BAD_TENSOR,
              "the tensor holds %s at element %d: values must be finite"
                  .formatted(Float.isNaN(v) ? "NaN" : "an infinite value", i));
        }
      }
    }
    return new Tensor(bytes, offset, dtype, layout);
  }

  /** The model's input, for messages: {@code 3x224x224 (NCHW) or 224x224x3 (NHWC)}. */
  private String describeInput() {
    int c = spec.channels();
    int h = spec.outputHeight();
    int w = spec.outputWidth();
    return "%dx%dx%d (NCHW) or %dx%dx%d (NHWC)".formatted(c, h, w, h, w, c);
  }
}
