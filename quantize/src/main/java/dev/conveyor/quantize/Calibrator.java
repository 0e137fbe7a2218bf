package dev.conveyor.quantize;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.onnx.graph.Models;
import java.nio.FloatBuffer;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntConsumer;

/**
 * Runs the float model over the calibration images and records the range of the tensors to be
 * quantized: the smallest and largest value seen (min/max), or the values that cut off the given
 * share of the extremes at both ends (percentile, from a 2,048-bin histogram over min..max, which
 * takes a second pass).
 */
final class Calibrator {
  private static final int BATCH = 8;
  private static final int BINS = 2048;

  private Calibrator() {}

  /** What was seen of one tensor. */
  static final class Seen {
    float min = Float.POSITIVE_INFINITY;
    float max = Float.NEGATIVE_INFINITY;
    long[] histogram;

    /** The range to quantize to: {@code [lo, hi]}. */
    float[] range(Quantizer.Options options) {
      if (histogram == null || max <= min) {
        return new float[] {min, max};
      }
      long total = 0;
      for (long c : histogram) {
        total += c;
      }
      double tail = total * (100 - options.percentile()) / 100;
      float width = (max - min) / BINS;
      int lo = 0;
      for (long below = 0; lo < BINS - 1 && below + histogram[lo] <= tail; lo++) {
        below += histogram[lo];
      }
      int hi = BINS - 1;
      for (long above = 0; hi > 0 && above + histogram[hi] <= tail; hi--) {
        above += histogram[hi];
      }
      return new float[] {min + lo * width, min + (hi + 1) * width};
    }
  }

  /**
   * The ranges of {@code names} over the samples.
   *
   * @param progress told the number of images each time a batch has run
   */
  static Map<String, float[]> ranges(
      ModelProto model,
      Collection<String> names,
      Quantizer.Samples samples,
      Quantizer.Options options,
      IntConsumer progress) {
    if (samples.images().isEmpty()) {
      throw new ConveyorException(ErrorCode.INVALID_SETTING, "no calibration images");
    }
    Map<String, Seen> seen = new HashMap<>();
    names.forEach(n -> seen.put(n, new Seen()));
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions();
        OrtSession session = env.createSession(withOutputs(model, names).toByteArray(), opts)) {
      String input = session.getInputNames().iterator().next();
      run(env, session, input, samples, seen, false, progress);
      if (options.calibration() == Quantizer.Calibration.PERCENTILE) {
        seen.values().forEach(s -> s.histogram = new long[BINS]);
        run(env, session, input, samples, seen, true, progress);
      }
    } catch (OrtException e) {
      throw new ConveyorException(
          ErrorCode.INVALID_SETTING, "ONNX Runtime cannot run the model: " + e.getMessage(), e);
    }
    Map<String, float[]> ranges = new HashMap<>();
    seen.forEach((name, s) -> ranges.put(name, s.range(options)));
    return ranges;
  }

  private static void run(
      OrtEnvironment env,
      OrtSession session,
      String input,
      Quantizer.Samples samples,
      Map<String, Seen> seen,
      boolean histogram,
      IntConsumer progress)
      throws OrtException {
    List<float[]> images = samples.images();
    int per = images.get(0).length;
    long[] shape = new long[samples.shape().length + 1];
    for (int i = 0; i < samples.shape().length; i++) {
      shape[i + 1] = samples.shape()[i];
    }
    for (int from = 0; from < images.size(); from += BATCH) {
      int n = Math.min(BATCH, images.size() - from);
      FloatBuffer batch = FloatBuffer.allocate(n * per);
      for (int i = 0; i < n; i++) {
        batch.put(images.get(from + i));
      }
      batch.flip();
      shape[0] = n;
      Set<String> fetch = new HashSet<>(seen.keySet());
      fetch.remove(input);
      try (OnnxTensor x = OnnxTensor.createTensor(env, batch, shape);
          OrtSession.Result result = session.run(Map.of(input, x), fetch)) {
        for (Map.Entry<String, OnnxValue> e : result) {
          record(((OnnxTensor) e.getValue()).getFloatBuffer(), seen.get(e.getKey()), histogram);
        }
      }
      if (seen.containsKey(input)) {
        record(batch, seen.get(input), histogram);
      }
      progress.accept(n);
    }
  }

  private static void record(FloatBuffer values, Seen s, boolean histogram) {
    if (histogram) {
      count(values, s);
    } else {
      extremes(values, s);
    }
  }

  private static void extremes(FloatBuffer values, Seen s) {
    float min = s.min;
    float max = s.max;
    for (int i = values.position(); i < values.limit(); i++) {
      float v = values.get(i);
      if (v < min) {
        min = v;
      }
      if (v > max) {
        max = v;
      }
    }
    s.min = min;
    s.max = max;
  }

  private static void count(FloatBuffer values, Seen s) {
    if (s.max <= s.min) {
      return;
    }
    float scale = BINS / (s.max - s.min);
    long[] h = s.histogram;
    for (int i = values.position(); i < values.limit(); i++) {
      int bin = (int) ((values.get(i) - s.min) * scale);
      h[Math.max(0, Math.min(BINS - 1, bin))]++;
    }
  }

  /** The model with {@code names} added to its outputs, so that a run returns them. */
  private static ModelProto withOutputs(ModelProto model, Collection<String> names) {
    GraphProto.Builder graph = model.getGraph().toBuilder();
    Set<String> outputs = new HashSet<>();
    graph.getOutputList().forEach(o -> outputs.add(o.getName()));
    graph.getInputList().forEach(i -> outputs.add(i.getName()));
    for (String name : names) {
      if (outputs.add(name)) {
        graph.addOutput(Models.floatValue(name));
      }
    }
    return model.toBuilder().setGraph(graph).build();
  }
}
