package dev.conveyor.train;

import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * The Fashion-MNIST dataset, read from its four IDX files (gzipped or not). Debian's package {@code
 * dataset-fashion-mnist} puts them in {@link #DEFAULT_DIR}.
 *
 * @param images {@code count} images of {@code rows x cols} grey bytes, row by row
 * @param labels one class index (0 to 9) per image
 */
public record FashionMnist(byte[] images, byte[] labels, int count, int rows, int cols) {
  public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

  /** The class names, by index. */
  public static final List<String> CLASSES =
      List.of(
          "T-shirt/top",
          "Trouser",
          "Pullover",
          "Dress",
          "Coat",
          "Sandal",
          "Shirt",
          "Sneaker",
          "Bag",
          "Ankle boot");

  /** Which half of the dataset. */
  public enum Split {
    TRAIN("train"),
    TEST("t10k");

    private final String prefix;

    Split(String prefix) {
      this.prefix = prefix;
    }
  }

  public int pixels() {
    return rows * cols;
  }

  public int label(int i) {
    return labels[i];
  }

  /**
   * Reads one split from a folder holding {@code train-images-idx3-ubyte[.gz]} and the others.
   *
   * @throws IllegalArgumentException naming the missing file and how to get it
   */
  public static FashionMnist load(Path dir, Split split) {
    Path imageFile = find(dir, split.prefix + "-images-idx3-ubyte");
    Path labelFile = find(dir, split.prefix + "-labels-idx1-ubyte");
    try (DataInputStream images = open(imageFile);
        DataInputStream labels = open(labelFile)) {
      expectMagic(images, 0x803, imageFile);
      int count = images.readInt();
      int rows = images.readInt();
      int cols = images.readInt();
      expectMagic(labels, 0x801, labelFile);
      int labelCount = labels.readInt();
      if (labelCount != count) {
        throw new IllegalArgumentException(
            "%s has %d labels for %d images in %s"
                .formatted(labelFile, labelCount, count, imageFile));
      }
      byte[] pixels = new byte[count * rows * cols];
      images.readFully(pixels);
      byte[] classes = new byte[count];
      labels.readFully(classes);
      for (byte c : classes) {
        if (c < 0 || c >= CLASSES.size()) {
          throw new IllegalArgumentException(labelFile + " holds a label outside 0..9: " + c);
        }
      }
      return new FashionMnist(pixels, classes, count, rows, cols);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot read Fashion-MNIST from " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The first {@code n} images, for short runs. */
  public FashionMnist head(int n) {
    int k = Math.min(n, count);
    return new FashionMnist(
        java.util.Arrays.copyOf(images, k * pixels()),
        java.util.Arrays.copyOf(labels, k),
        k,
        rows,
        cols);
  }

  private static Path find(Path dir, String name) {
    for (Path candidate : List.of(dir.resolve(name + ".gz"), dir.resolve(name))) {
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalArgumentException(
        "no %s[.gz] in %s. Fashion-MNIST comes in Debian's package dataset-fashion-mnist"
                .formatted(name, dir)
            + " (apt-get install dataset-fashion-mnist puts it in "
            + DEFAULT_DIR
            + "), or use any folder that holds the four IDX files");
  }

  private static DataInputStream open(Path file) throws IOException {
    InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
    in.mark(2);
    int b0 = in.read();
    int b1 = in.read();
    in.reset();
    if (b0 == 0x1f && b1 == 0x8b) {
      in = new GZIPInputStream(in, 1 << 16);
    }
    return new DataInputStream(in);
  }

  private static void expectMagic(DataInputStream in, int magic, Path file) throws IOException {
    int found = in.readInt();
    if (found != magic) {
      throw new IllegalArgumentException(
          "%s is not an IDX file of the expected kind (magic %08x, expected %08x)"
              .formatted(file, found, magic));
    }
  }
}
