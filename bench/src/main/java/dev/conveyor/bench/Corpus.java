package dev.conveyor.bench;

import dev.conveyor.core.ConveyorException;
import dev.conveyor.core.ErrorCode;
import dev.conveyor.core.ImageRequest;
import dev.conveyor.core.decode.ImageFiles;
import dev.conveyor.core.decode.OpenCv;
import dev.conveyor.core.pipeline.Pipeline;
import dev.conveyor.core.preprocess.DType;
import dev.conveyor.core.preprocess.Preprocessing;
import dev.conveyor.core.preprocess.TensorReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.opencv.core.Core;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.core.MatOfInt;
import org.opencv.core.Size;
import org.opencv.imgcodecs.Imgcodecs;
import org.opencv.imgproc.Imgproc;

/**
 * The encoded images a bench run sends, held in memory so that reading files never limits a
 * measurement: a folder's files, or generated photo-like JPEGs when the user has none at hand. With
 * keys (the same images put in an object store), the pipeline stages send each image's key instead
 * of its bytes, and workers fetch it, as seed 004's do.
 *
 * <p>With tensors (each image already preprocessed into the model's input, what clients that
 * preprocess themselves send), the pipeline stages send those instead, declared with {@code
 * tensorType}; the raw model and preprocessing stages still use the images.
 *
 * @param keys the key of each image ({@code s3://bucket/key}), or empty: requests carry the bytes
 * @param tensors each image as a tensor, or empty
 * @param tensorType the content type of the tensors
 */
public record Corpus(
    List<byte[]> images, List<String> keys, List<byte[]> tensors, String tensorType) {
  /** How many JPEGs {@link #generated()} makes. */
  public static final int GENERATED = 64;

  public Corpus {
    images = List.copyOf(images);
    keys = List.copyOf(keys);
    tensors = List.copyOf(tensors);
    if (images.isEmpty()) {
      throw new ConveyorException(ErrorCode.FETCH_FAILED, "no images to bench with");
    }
    if (!keys.isEmpty() && keys.size() != images.size()) {
      throw new IllegalArgumentException(keys.size() + " keys for " + images.size() + " images");
    }
  }

  public Corpus(List<byte[]> images) {
    this(images, List.of(), List.of(), null);
  }

  /** The same images, sent by these keys, where they have been stored. */
  public Corpus withKeys(List<String> keys) {
    return new Corpus(images, keys, List.of(), null);
  }

  /**
   * The same images, sent as float32 tensors of the pipeline's input, preprocessed here once;
   * images the pipeline cannot read are left out of what is sent.
   */
  public Corpus withTensors(Pipeline pipeline) {
    Preprocessing spec = pipeline.preprocessor().spec();
    List<byte[]> out = new ArrayList<>();
    for (byte[] image : images) {
      try {
        float[] input = pipeline.preprocessor().preprocess(image);
        ByteBuffer b = ByteBuffer.allocate(input.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.asFloatBuffer().put(input);
        out.add(b.array());
      } catch (ConveyorException unreadable) {
        // a broken file in the corpus: nothing to send for it
      }
    }
    if (out.isEmpty()) {
      throw new ConveyorException(ErrorCode.BAD_TENSOR, "no image of the corpus preprocesses");
    }
    int[] shape = spec.shape();
    String type = TensorReader.contentType(DType.FLOAT32, 1, shape[0], shape[1], shape[2]);
    return new Corpus(images, List.of(), out, type);
  }

  /** Whether requests carry tensors instead of encoded images. */
  public boolean byTensor() {
    return !tensors.isEmpty();
  }

  /** Whether requests carry keys to fetch instead of bytes. */
  public boolean byKey() {
    return !keys.isEmpty();
  }

  /** The {@code i}-th image, cycling through the corpus. */
  public byte[] image(int i) {
    return images.get(Math.floorMod(i, images.size()));
  }

  /** A request for the {@code i}-th image: its bytes, or its key when the corpus has keys. */
  public ImageRequest request(int i) {
    if (byTensor()) {
      return ImageRequest.ofBytes(
          "bench-" + i, tensors.get(Math.floorMod(i, tensors.size())), tensorType);
    }
    return byKey()
        ? ImageRequest.ofKey(keys.get(Math.floorMod(i, keys.size())))
        : ImageRequest.ofBytes("bench-" + i, image(i), null);
  }

  public int size() {
    return images.size();
  }

  /**
   * The file {@code path}, or every regular file under the folder {@code path}, sorted, skipping
   * hidden files and folders; a file that is not an image stays in (it is refused like any bad
   * image, which is work too).
   *
   * @throws ConveyorException {@code FETCH_FAILED} when the folder holds no files
   */
  public static Corpus read(Path path) throws IOException {
    List<byte[]> all = new ArrayList<>();
    for (Path file : ImageFiles.expand(List.of(path))) {
      all.add(Files.readAllBytes(file));
    }
    if (all.isEmpty()) {
      throw new ConveyorException(ErrorCode.FETCH_FAILED, "no files under " + path);
    }
    return new Corpus(all);
  }

  /** {@link #GENERATED} generated 640×480 JPEGs. */
  public static Corpus generated() {
    return generate(GENERATED);
  }

  /** Photo-like 640×480 JPEGs: blurred noise at several scales, the same on every run. */
  public static Corpus generate(int count) {
    OpenCv.load();
    Core.setRNGSeed(1234);
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Mat coarse = new Mat(30, 40, CvType.CV_8UC3);
      Core.randu(coarse, 0, 255);
      Mat image = new Mat();
      Imgproc.resize(coarse, image, new Size(640, 480), 0, 0, Imgproc.INTER_CUBIC);
      Mat fine = new Mat(480, 640, CvType.CV_8UC3);
      Core.randn(fine, 0, 12);
      Core.add(image, fine, image);
      MatOfByte jpeg = new MatOfByte();
      Imgcodecs.imencode(".jpg", image, jpeg, new MatOfInt(Imgcodecs.IMWRITE_JPEG_QUALITY, 90));
      out.add(jpeg.toArray());
      for (Mat m : List.of(coarse, image, fine, jpeg)) {
        m.release();
      }
    }
    return new Corpus(out);
  }
}
