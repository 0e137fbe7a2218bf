package dev.conveyor.train;

import dev.conveyor.core.decode.OpenCv;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntConsumer;
import org.opencv.core.CvType;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

/**
 * Fashion-MNIST as image files: one folder per class, one grey PNG per image, the layout that
 * image-folder tools and {@code conveyor classify} read.
 */
public final class PngExport {
  private PngExport() {}

  /**
   * The folder name of a class: its name with path separators replaced ("T-shirt/top" →
   * "T-shirt-top").
   */
  public static String folderName(String className) {
    return className.replace('/', '-').replace('\\', '-');
  }

  /** One image as PNG bytes. */
  public static byte[] png(FashionMnist data, int index) {
    OpenCv.load();
    Mat image = new Mat(data.rows(), data.cols(), CvType.CV_8UC1);
    MatOfByte png = new MatOfByte();
    try {
      image.put(0, 0, data.images(), index * data.pixels(), data.pixels());
      if (!Imgcodecs.imencode(".png", image, png)) {
        throw new IllegalStateException("OpenCV could not encode a PNG");
      }
      return png.toArray();
    } finally {
      image.release();
      png.release();
    }
  }

  /**
   * Writes {@code out/CLASS/NNNNN.png} for every image, NNNNN being its index in the split.
   *
   * @param done told after each image, for progress
   */
  public static void write(FashionMnist data, Path out, IntConsumer done) {
    try {
      for (String c : FashionMnist.CLASSES) {
        Files.createDirectories(out.resolve(folderName(c)));
      }
      int digits = Math.max(5, Integer.toString(data.count() - 1).length());
      for (int i = 0; i < data.count(); i++) {
        String name = String.format("%0" + digits + "d.png", i);
        Path file = out.resolve(folderName(FashionMnist.CLASSES.get(data.label(i)))).resolve(name);
        Files.write(file, png(data, i));
        done.accept(i + 1);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write to " + out + ": " + e.getMessage(), e);
    }
  }
}
