package dev.conveyor.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.core.decode.OpenCv;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.opencv.core.Mat;
import org.opencv.core.MatOfByte;
import org.opencv.imgcodecs.Imgcodecs;

class FashionMnistTest {
  @TempDir Path dir;

  @Test
  void readsTheTestSplitOfDebiansPackage() {
    FashionMnist test = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST);
    assertThat(test.count()).isEqualTo(10_000);
    assertThat(test.rows()).isEqualTo(28);
    assertThat(test.cols()).isEqualTo(28);
    int[] perClass = new int[10];
    for (int i = 0; i < test.count(); i++) {
      perClass[test.label(i)]++;
    }
    assertThat(perClass).containsOnly(1000);
    // the first test image is an ankle boot
    assertThat(FashionMnist.CLASSES.get(test.label(0))).isEqualTo("Ankle boot");
  }

  @Test
  void readsUncompressedIdxFilesToo() throws Exception {
    for (String name : new String[] {"t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}) {
      try (InputStream in =
          new GZIPInputStream(
              Files.newInputStream(FashionMnist.DEFAULT_DIR.resolve(name + ".gz")))) {
        Files.copy(in, dir.resolve(name));
      }
    }
    FashionMnist plain = FashionMnist.load(dir, FashionMnist.Split.TEST);
    FashionMnist gz = FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST);
    assertThat(plain.images()).isEqualTo(gz.images());
    assertThat(plain.labels()).isEqualTo(gz.labels());
  }

  @Test
  void aMissingDatasetSaysHowToGetIt() {
    assertThatThrownBy(() -> FashionMnist.load(dir, FashionMnist.Split.TRAIN))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("train-images-idx3-ubyte")
        .hasMessageContaining("apt-get install dataset-fashion-mnist");
  }

  @Test
  void exportsOneFolderPerClassWithLosslessPngs() throws Exception {
    FashionMnist test =
        FashionMnist.load(FashionMnist.DEFAULT_DIR, FashionMnist.Split.TEST).head(40);
    int[] written = {0};
    PngExport.write(test, dir, i -> written[0] = i);
    assertThat(written[0]).isEqualTo(40);
    Path first = dir.resolve("Ankle boot").resolve("00000.png");
    assertThat(first).exists();
    assertThat(dir.resolve("T-shirt-top")).isDirectory();
    OpenCv.load();
    Mat decoded =
        Imgcodecs.imdecode(new MatOfByte(Files.readAllBytes(first)), Imgcodecs.IMREAD_UNCHANGED);
    byte[] pixels = new byte[784];
    decoded.get(0, 0, pixels);
    assertThat(decoded.channels()).isEqualTo(1);
    assertThat(pixels).isEqualTo(java.util.Arrays.copyOf(test.images(), 784));
    long files;
    try (var walk = Files.walk(dir)) {
      files = walk.filter(p -> p.toString().endsWith(".png")).count();
    }
    assertThat(files).isEqualTo(40);
  }
}
