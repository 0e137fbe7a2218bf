package dev.conveyor.onnx;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.model.Classifier;
import dev.conveyor.core.model.ModelSpec;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;

/**
 * A {@link Classifier} running an ONNX model with ONNX Runtime. The input's name, shape and layout
 * are read from the model. Batches are wrapped as tensors over the caller's direct buffers and the
 * output is written into the caller's buffer, so nothing is copied; a model with a fixed batch size
 * is run in chunks of that size, the last one padded.
 */
public final class OnnxClassifier implements Classifier {
  static {
    OrtNatives.prepare();
  }

  private final OrtEnvironment env = OrtEnvironment.getEnvironment();
  private final OrtSession session;
  private final String inputName;
  private final String outputName;
  private final InputShape input;
  private final int inputRank;
  private final ModelSpec spec;
  private FloatBuffer padIn;
  private FloatBuffer padOut;

  private OnnxClassifier(OrtSession session, ModelSpec spec, InputShape input, int rank)
      throws OrtException {
    this.session = session;
    this.spec = spec;
    this.input = input;
    this.inputRank = rank;
    this.inputName = session.getInputNames().iterator().next();
    this.outputName = session.getOutputNames().iterator().next();
  }

  /** Loads a model file, to run at the image size the model fixes. */
  public static OnnxClassifier open(Path model, OnnxOptions options) {
    return open(model, options, spec -> spec);
  }

  /**
   * Loads a model file. {@code fit} is given the model's own spec and answers the one to run with:
   * the same, or with the dimensions the model leaves open (height, width, channels) fixed, as the
   * preprocessing chosen for it produces them. Dimensions the model fixes cannot change.
   *
   * @throws ConveyorException {@code INVALID_SETTING} when the file is missing or not a model
   *     Conveyor can run
   */
  public static OnnxClassifier open(Path model, OnnxOptions options, UnaryOperator<ModelSpec> fit) {
    if (!Files.isReadable(model)) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "no model file at " + model);
    }
    OrtSession session = null;
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
      opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
      opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
      if (options.intraOpThreads() > 0) {
        opts.setIntraOpNumThreads(options.intraOpThreads());
      }
      if (options.interOpThreads() > 0) {
        opts.setInterOpNumThreads(options.interOpThreads());
      }
      String spin = options.spinning() ? "1" : "0";
      opts.addConfigEntry("session.intra_op.allow_spinning", spin);
      opts.addConfigEntry("session.inter_op.allow_spinning", spin);
      session = OrtEnvironment.getEnvironment().createSession(model.toString(), opts);
      return describe(session, model, fit);
    } catch (OrtException e) {
      if (session != null) {
        closeQuietly(session);
      }
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "cannot load the model " + model + ": " + e.getMessage(), e);
    } catch (RuntimeException e) {
      if (session != null) {
        closeQuietly(session);
      }
      throw e;
    }
  }

  private static OnnxClassifier describe(
      OrtSession session, Path model, UnaryOperator<ModelSpec> fit) throws OrtException {
    Map<String, NodeInfo> inputs = session.getInputInfo();
    if (inputs.size() != 1) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "the model takes %d inputs %s; an image classifier takes one"
              .formatted(inputs.size(), inputs.keySet()));
    }
    TensorInfo in = tensorInfo(inputs.values().iterator().next(), "input");
    if (in.type != ai.onnxruntime.OnnxJavaType.FLOAT) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "the model's input is " + in.type + "; Conveyor feeds float32");
    }
    InputShape shape = InputShape.of(in.getShape());
    TensorInfo out = tensorInfo(session.getOutputInfo().values().iterator().next(), "output");
    long[] outShape = out.getShape();
    long classes = 1;
    for (int i = 1; i < outShape.length; i++) {
      classes *= outShape[i];
    }
    if (outShape.length < 2 || classes <= 0) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "the model's output has shape %s; a classifier gives [N, classes]"
              .formatted(java.util.Arrays.toString(outShape)));
    }
    ModelSpec spec =
        new ModelSpec(
            modelName(model),
            shape.layout(),
            shape.channels(),
            shape.height(),
            shape.width(),
            Math.max(shape.batch(), 0),
            (int) classes,
            ModelLabels.read(session.getMetadata().getCustomMetadata()));
    return new OnnxClassifier(session, fitted(spec, fit.apply(spec)), shape, in.getShape().length);
  }

  private static TensorInfo tensorInfo(NodeInfo node, String what) {
    if (node.getInfo() instanceof TensorInfo t) {
      return t;
    }
    throw new ConveyorException(
        ErrorCode.INVALID_SETTING, "the model's " + what + " is not a tensor");
  }

  /** The name a model file is known by: its file name without {@code .onnx}. */
  public static String modelName(Path model) {
    String file = model.getFileName().toString();
    return file.endsWith(".onnx") ? file.substring(0, file.length() - 5) : file;
  }

  @Override
  public ModelSpec spec() {
    return spec;
  }

  /** The model's spec with its open dimensions fixed as {@code to} has them, checked. */
  private static ModelSpec fitted(ModelSpec model, ModelSpec to) {
    if (!fits(model.channels(), to.channels())
        || !fits(model.height(), to.height())
        || !fits(model.width(), to.width())) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING,
          "the model %s takes %dx%dx%d images, not %dx%dx%d"
              .formatted(
                  model.name(),
                  model.channels(),
                  model.height(),
                  model.width(),
                  to.channels(),
                  to.height(),
                  to.width()));
    }
    return new ModelSpec(
        model.name(),
        model.layout(),
        to.channels(),
        to.height(),
        to.width(),
        model.fixedBatch(),
        model.classes(),
        model.labels());
  }

  private static boolean fits(int modelDim, int dim) {
    return modelDim <= 0 || modelDim == dim;
  }

  @Override
  public synchronized void run(FloatBuffer batch, int count, FloatBuffer output) {
    int c = spec.channels();
    int h = spec.height();
    int w = spec.width();
    if (c <= 0 || h <= 0 || w <= 0) {
      throw new ConveyorException(
          ErrorCode.INFERENCE_FAILED,
          "the model leaves its image size open; open it with the size to run at");
    }
    int imageSize = c * h * w;
    int classes = spec.classes();
    try {
      if (spec.dynamicBatch()) {
        infer(
            slice(batch, 0, count * imageSize), slice(output, 0, count * classes), count, c, h, w);
        return;
      }
      int fixed = spec.fixedBatch();
      for (int start = 0; start < count; start += fixed) {
        int n = Math.min(fixed, count - start);
        if (n == fixed) {
          infer(
              slice(batch, start * imageSize, fixed * imageSize),
              slice(output, start * classes, fixed * classes),
              fixed,
              c,
              h,
              w);
        } else {
          runPadded(batch, output, start, n, c, h, w);
        }
      }
    } catch (OrtException e) {
      throw new ConveyorException(
          ErrorCode.INFERENCE_FAILED, "ONNX Runtime failed: " + e.getMessage(), e);
    }
  }

  private void runPadded(
      FloatBuffer batch, FloatBuffer output, int start, int n, int c, int h, int w)
      throws OrtException {
    int fixed = spec.fixedBatch();
    int imageSize = c * h * w;
    int classes = spec.classes();
    if (padIn == null || padIn.capacity() != fixed * imageSize) {
      padIn = directFloats(fixed * imageSize);
      padOut = directFloats(fixed * classes);
    }
    padIn.clear();
    padIn.put(slice(batch, start * imageSize, n * imageSize));
    while (padIn.hasRemaining()) {
      padIn.put(0f);
    }
    infer(slice(padIn, 0, fixed * imageSize), slice(padOut, 0, fixed * classes), fixed, c, h, w);
    output.put(start * classes, padOut, 0, n * classes);
  }

  private void infer(FloatBuffer in, FloatBuffer out, int n, int c, int h, int w)
      throws OrtException {
    long[] outShape = {n, spec.classes()};
    try (OnnxTensor x = OnnxTensor.createTensor(env, in, input.tensorShape(n, c, h, w, inputRank));
        OnnxTensor y = OnnxTensor.createTensor(env, out, outShape);
        OrtSession.Result ignored = session.run(Map.of(inputName, x), Map.of(outputName, y))) {
      // the scores are now in out
    }
  }

  private static FloatBuffer slice(FloatBuffer buffer, int offset, int length) {
    return buffer.slice(offset, length);
  }

  private static FloatBuffer directFloats(int n) {
    return ByteBuffer.allocateDirect(n * Float.BYTES)
        .order(ByteOrder.nativeOrder())
        .asFloatBuffer();
  }

  @Override
  public void close() {
    closeQuietly(session);
  }

  private static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException e) {
      // closing releases native memory; nothing more can be done on failure
    }
  }
}
